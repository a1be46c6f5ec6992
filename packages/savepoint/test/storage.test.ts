import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CorruptSavepointError, NotASavepointError, SavepointStorageError } from '@stateshift/core';
import { decodeMetadata, encodeMetadata, EntryCursor, layoutOfJob, openSavepoint, SavepointWriter, storageFor, writeSavepointEntries, FileSystemStorage } from '../src/index.js';
import { counts, sampleEntries, tempDir, writeSample } from './helpers.js';

async function readEverything(dir: string): Promise<number> {
  const sp = await openSavepoint(dir);
  let n = 0;
  for await (const e of sp.entries('counter')) n += e.value.length >= 0 ? 1 : 0;
  return n;
}

test('a data file of many chunks (each filled again once written) and background flushes reads back every entry as written, also as transient blocks', async () => {
  const dir = join(await tempDir(), 'big');
  const empty = new Uint8Array();
  const entries = Array.from({ length: 40_000 }, (_, i) => {
    const value = new Uint8Array(300).fill(i % 251);
    new DataView(value.buffer).setUint32(0, i);
    return { state: 0, keyGroup: i % 8, key: new TextEncoder().encode(`k${i}`), namespace: empty, mapKey: empty, version: 1, value };
  }).sort((a, b) => a.keyGroup - b.keyGroup);
  const writer = await SavepointWriter.create(dir, layoutOfJob(counts));
  const file = await writer.openDataFile('counter', { start: 0, end: 7 });
  for (const e of entries) await file.append(e);
  await writer.closeDataFile(file);
  await writer.commit();
  const sp = await openSavepoint(dir);
  let n = 0;
  const wrong: number[] = [];
  for await (const e of sp.entries('counter')) {
    if (Buffer.compare(e.key, entries[n].key) !== 0 || Buffer.compare(e.value, entries[n].value) !== 0) wrong.push(n);
    n++;
  }
  expect(wrong).toEqual([]);
  expect(n).toBe(entries.length);
  expect(sp.metadata.files[0].size).toBeGreaterThan(10 * 1024 * 1024);
  // Transient blocks (read into the same two chunks over and over), each walked before the next is asked for.
  n = 0;
  const cursor = new EntryCursor();
  for await (const block of sp.entryBlocks('counter', undefined, { transient: true })) {
    for (cursor.reset(block); cursor.next(); n++) {
      if (Buffer.compare(cursor.key(), entries[n].key) !== 0 || Buffer.compare(cursor.value(), entries[n].value) !== 0) wrong.push(n);
    }
  }
  expect(wrong).toEqual([]);
  expect(n).toBe(entries.length);
});

describe('a location that is not a savepoint says so, and what is there', () => {
  test('missing, a file, an empty directory, a LevelDB directory, an unfinished writer', async () => {
    const root = await tempDir();
    const cases: [string, RegExp][] = [];
    cases.push([join(root, 'missing'), /not a savepoint: nothing exists at/]);
    await writeFile(join(root, 'file'), 'hello');
    cases.push([join(root, 'file'), /not a savepoint: it is a file \(5 bytes\)/]);
    await mkdir(join(root, 'empty'));
    cases.push([join(root, 'empty'), /not a savepoint: it is an empty directory/]);
    await mkdir(join(root, 'leveldb'));
    for (const n of ['CURRENT', 'LOCK', 'LOG', 'MANIFEST-000001', '000003.log']) await writeFile(join(root, 'leveldb', n), '');
    cases.push([join(root, 'leveldb'), /no _metadata; it holds 000003\.log, CURRENT, .* \(a LevelDB database/]);
    const writer = await SavepointWriter.create(join(root, 'unfinished'), layoutOfJob(counts));
    const file = await writer.openDataFile('counter', { start: 0, end: 7 });
    await file.append(sampleEntries(1)[0]);
    await writer.closeDataFile(file);
    cases.push([join(root, 'unfinished'), /no _metadata; it holds _lock, op0-kg0-7\.dat \(a savepoint whose writer is still running/]);
    for (const [location, message] of cases) {
      const error = await openSavepoint(location).catch((e: unknown) => e);
      expect(error, location).toBeInstanceOf(NotASavepointError);
      expect(error).not.toBeInstanceOf(CorruptSavepointError);
      expect((error as NotASavepointError).code).toBe('STATESHIFT_NOT_A_SAVEPOINT');
      expect(String(error)).toMatch(message);
    }
    await writer.abort();
  });

  test('a string with another scheme is refused, never made a directory', async () => {
    const root = await tempDir();
    for (const location of ['gs://bucket/x', 's3:/bucket/x', 'http://host/x', 'hdfs://nn/x']) {
      expect(() => storageFor(location), location).toThrow(TypeError);
      await expect(SavepointWriter.create(location, layoutOfJob(counts))).rejects.toThrow(/scheme|S3 location|s3:\/\/bucket/);
    }
    expect(() => storageFor('s3://B_ad/x')).toThrow(/not a valid S3 bucket name/);
    expect(storageFor(`file://${root}/sp`)).toBeInstanceOf(FileSystemStorage);
    expect(storageFor(`file://${root}/sp`).location).toBe(`${root}/sp`);
    expect(await readdir(process.cwd())).not.toContain('s3:');
  });
});

describe('a savepoint is confined to its location', () => {
  async function withFileName(name: string): Promise<string> {
    const dir = await tempDir();
    await writeSample(dir);
    const meta = decodeMetadata(new Uint8Array(await readFile(join(dir, '_metadata'))));
    meta.files[0].name = name;
    await writeFile(join(dir, '_metadata'), encodeMetadata(meta));
    return dir;
  }

  test.each(['../outside.dat', '../../../etc/shadow', 'sub/x.dat', '/etc/passwd', '..', '.', '_metadata', '_lock', 'a\\b.dat', 'a\u0000b'])(
    'a data file named %j is refused as corrupt, naming nothing outside',
    async (name) => {
      const dir = await withFileName(name);
      const error = await openSavepoint(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptSavepointError);
      expect(String(error)).toMatch(/not a plain file name/);
      expect(String(error)).not.toMatch(/bytes but|ENOENT|EACCES/);
    },
  );

  test('two files of the metadata with one name are refused', async () => {
    const dir = await tempDir();
    await writeSample(dir);
    const meta = decodeMetadata(new Uint8Array(await readFile(join(dir, '_metadata'))));
    meta.files[1].name = meta.files[0].name;
    await writeFile(join(dir, '_metadata'), encodeMetadata(meta));
    await expect(openSavepoint(dir)).rejects.toThrow(/listed twice/);
  });

  test('a data file that is a symbolic link, a directory or a FIFO is refused without reading through it', async () => {
    const root = await tempDir();
    const outside = join(root, 'outside.bin');
    await writeFile(outside, new Uint8Array(12345));
    for (const make of ['symlink', 'directory', 'fifo'] as const) {
      const dir = join(root, make);
      await writeSample(dir);
      const name = 'op0-kg0-3.dat';
      execFileSync('rm', [join(dir, name)]);
      if (make === 'symlink') await symlink(outside, join(dir, name));
      if (make === 'directory') await mkdir(join(dir, name));
      if (make === 'fifo') execFileSync('mkfifo', [join(dir, name)]);
      const error = await readEverything(dir).catch((e: unknown) => e);
      expect(error, make).toBeInstanceOf(CorruptSavepointError);
      expect(String(error)).toMatch(make === 'symlink' ? /symbolic link/ : make === 'directory' ? /a directory/ : /not a regular file/);
      expect(String(error)).not.toMatch(/12345/);
    }
    const linked = join(root, 'linked-metadata');
    await writeSample(linked);
    execFileSync('mv', [join(linked, '_metadata'), join(root, 'real-metadata')]);
    await symlink(join(root, 'real-metadata'), join(linked, '_metadata'));
    await expect(openSavepoint(linked)).rejects.toThrow(/_metadata: is a symbolic link/);
  });
});

describe('a savepoint location has one writer', () => {
  test('a second writer fails at once, and its failure removes nothing of the first', async () => {
    const dir = join(await tempDir(), 'sp');
    const first = await SavepointWriter.create(dir, layoutOfJob(counts));
    const file = await first.openDataFile('counter', { start: 0, end: 7 });
    for (const e of sampleEntries(20)) await file.append(e);
    await first.closeDataFile(file);
    const error = await SavepointWriter.create(dir, layoutOfJob(counts)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SavepointStorageError);
    expect((error as SavepointStorageError).reason).toBe('in-use');
    expect(String(error)).toMatch(/another savepoint writer \(process \d+ on .*, since .*\) holds .*_lock/);
    await expect(writeSavepointEntries(dir, layoutOfJob(counts), { start: 0, end: 7 }, [{ uid: 'counter', entries: sampleEntries(3) }])).rejects.toThrow(SavepointStorageError);
    expect((await readdir(dir)).sort()).toEqual(['_lock', 'op0-kg0-7.dat']);
    await first.commit();
    expect((await readdir(dir)).sort()).toEqual(['_metadata', 'op0-kg0-7.dat']);
    expect(await readEverything(dir)).toBe(80);
  });

  test('a finished savepoint is never written over, and the refusal deletes nothing', async () => {
    const dir = await tempDir();
    await writeSample(dir);
    const before = (await readdir(dir)).sort();
    const error = await SavepointWriter.create(dir, layoutOfJob(counts)).catch((e: unknown) => e);
    expect((error as SavepointStorageError).reason).toBe('not-empty');
    expect(String(error)).toMatch(/a savepoint is there already/);
    expect((await readdir(dir)).sort()).toEqual(before);
    expect(await readEverything(dir)).toBe(200);
  });

  test('a directory holding only a subdirectory is not empty: the writer refuses it and leaves it alone', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'mydata'));
    await writeFile(join(dir, 'mydata', 'file'), 'precious');
    const error = await SavepointWriter.create(dir, layoutOfJob(counts)).catch((e: unknown) => e);
    expect((error as SavepointStorageError).reason).toBe('not-empty');
    expect(String(error)).toMatch(/the location is not empty \(it holds "mydata\/"\); choose a new location/);
    expect(await readdir(dir)).toEqual(['mydata']);
    expect(await readFile(join(dir, 'mydata', 'file'), 'utf8')).toBe('precious');
  });

  test('a location that is a file (or under one) is refused as such, not as held by another writer, and left alone', async () => {
    const file = join(await tempDir(), 'afile');
    await writeFile(file, 'precious');
    for (const location of [file, join(file, 'sp')]) {
      const error = await SavepointWriter.create(location, layoutOfJob(counts)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SavepointStorageError);
      expect((error as SavepointStorageError).reason).toBe('not-empty');
      expect(String(error)).not.toMatch(/another savepoint writer/);
      expect(String(error)).toMatch(location === file ? /afile: cannot write a savepoint here: it is a file, not a directory; choose another location/ : /a part of its path is a file, not a directory/);
    }
    expect(await readFile(file, 'utf8')).toBe('precious');
  });

  test('a writer killed before its commit leaves no savepoint, and its lock keeps the next writer out', async () => {
    const dir = join(await tempDir(), 'killed');
    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/slow-writer.mjs', import.meta.url)), dir, 'http://127.0.0.1:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve());
      child.on('exit', (code) => reject(new Error(`the writer exited with ${code} before writing`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(await readdir(dir)).not.toContain('_metadata');
    const error = await openSavepoint(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotASavepointError);
    expect(String(error)).toMatch(/no _metadata; it holds _lock, op0-kg0-7-p0\.dat/);
    await expect(SavepointWriter.create(dir, layoutOfJob(counts))).rejects.toMatchObject({ reason: 'in-use' });
  });

  test('an abort removes what the writer made and the directory it made, nothing else', async () => {
    const root = await tempDir();
    const dir = join(root, 'new', 'sp');
    const writer = await SavepointWriter.create(dir, layoutOfJob(counts));
    const file = await writer.openDataFile('counter', { start: 0, end: 7 });
    await file.append(sampleEntries(1)[0]);
    await writer.abort();
    expect(await readdir(join(root, 'new'))).toEqual([]);
  });
});
