import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CorruptSavepointError, NotASavepointError } from '@stateshift/core';
import { crc32, openSavepoint, SavepointWriter, layoutOfJob, type RawEntry } from '../src/index.js';
import { counts, sampleEntries, tempDir, writeSample } from './helpers.js';

async function readAll(dir: string): Promise<RawEntry[]> {
  const sp = await openSavepoint(dir);
  const out: RawEntry[] = [];
  for await (const e of sp.entries('counter')) out.push({ ...e, key: e.key.slice(), namespace: e.namespace.slice(), mapKey: e.mapKey.slice(), value: e.value.slice() });
  return out;
}

test('crc32 matches the standard check value', () => {
  expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  expect(crc32(new Uint8Array())).toBe(0);
  const data = new TextEncoder().encode('hello, savepoint');
  expect(crc32(data.subarray(5), crc32(data.subarray(0, 5)))).toBe(crc32(data));
});

describe('savepoint format', () => {
  test('entries written come back in order with metadata totals', async () => {
    const dir = await tempDir();
    const entries = sampleEntries(50);
    await writeSample(dir, entries);
    expect(await readAll(dir)).toEqual(entries);
    const sp = await openSavepoint(dir);
    expect(sp.jobName).toBe('counts');
    expect(sp.maxParallelism).toBe(8);
    expect(sp.operators.map((o) => o.uid)).toEqual(['counter']);
    expect(sp.stateTotals('counter', 'events').entries).toBe(100);
    expect(sp.stateTotals('counter', 'count').entries).toBe(50);
    await sp.verify();
  });

  test('a key-group range reads only its files and entries', async () => {
    const dir = await tempDir();
    const entries = sampleEntries(50);
    await writeSample(dir, entries);
    const sp = await openSavepoint(dir);
    expect(sp.files('counter', { start: 5, end: 6 }).map((f) => f.name)).toEqual(['op0-kg4-7.dat']);
    const got: RawEntry[] = [];
    for await (const e of sp.entries('counter', { range: { start: 5, end: 6 } })) got.push(e);
    expect(got.length).toBe(entries.filter((e) => e.keyGroup === 5 || e.keyGroup === 6).length);
    expect(got.every((e) => e.keyGroup === 5 || e.keyGroup === 6)).toBe(true);
  });

  test('a state filter and unknown names', async () => {
    const dir = await tempDir();
    await writeSample(dir);
    const sp = await openSavepoint(dir);
    let n = 0;
    for await (const e of sp.entries('counter', { state: 'byDay' })) n += e.state === 2 ? 1 : 1000;
    expect(n).toBe(50);
    await expect(sp.entries('nope').next()).rejects.toThrow(/no operator "nope".*"counter"/);
    await expect(sp.entries('counter', { state: 'nope' }).next()).rejects.toThrow(/no state "nope".*"count", "events", "byDay"/);
  });

  test('a directory without _metadata is not a savepoint', async () => {
    const dir = await tempDir();
    await expect(openSavepoint(dir)).rejects.toThrow(NotASavepointError);
    await expect(openSavepoint(join(dir, 'missing'))).rejects.toThrow(/not a savepoint/);
  });

  test('an uncommitted writer leaves no savepoint, and abort removes its files', async () => {
    const dir = join(await tempDir(), 'sp');
    const writer = await SavepointWriter.create(dir, layoutOfJob(counts));
    const file = await writer.openDataFile('counter', { start: 0, end: 7 });
    for (const e of sampleEntries(5)) await file.append(e);
    await writer.closeDataFile(file);
    await expect(openSavepoint(dir)).rejects.toThrow(/not a savepoint/);
    await writer.abort();
    await expect(readdir(dir)).rejects.toThrow();
  });

  test('writers refuse out-of-order and out-of-range entries and non-empty directories', async () => {
    const dir = await tempDir();
    const writer = await SavepointWriter.create(join(dir, 'sp'), layoutOfJob(counts));
    const file = await writer.openDataFile('counter', { start: 0, end: 3 });
    const [a] = sampleEntries(1);
    expect(() => file.append({ ...a, keyGroup: 5 })).toThrow(/outside the range 0-3/);
    await file.append({ ...a, keyGroup: 2 });
    expect(() => file.append({ ...a, keyGroup: 1 })).toThrow(/key-group order/);
    expect(() => file.append({ ...a, keyGroup: 2, state: -1 })).toThrow(/32-bit unsigned/);
    expect(() => file.append({ ...a, keyGroup: 2, version: 1.5 })).toThrow(/32-bit unsigned/);
    await writer.abort();
    await mkdir(join(dir, 'full'));
    await writeFile(join(dir, 'full', 'x'), 'x');
    await expect(SavepointWriter.create(join(dir, 'full'), layoutOfJob(counts))).rejects.toThrow(/not empty/);
  });
});

describe('damaged savepoints never give a wrong value', () => {
  /** A good savepoint, and a way to read it with one file replaced by damaged bytes. */
  async function fixture() {
    const dir = await tempDir();
    await writeSample(dir);
    const names = await readdir(dir);
    const originals = new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n))] as const)));
    return {
      names,
      originals,
      async readWith(name: string, bytes: Uint8Array | undefined): Promise<unknown> {
        if (bytes) await writeFile(join(dir, name), bytes);
        else await rm(join(dir, name));
        try {
          await readAll(dir);
          return undefined;
        } catch (error) {
          return error;
        } finally {
          await writeFile(join(dir, name), originals.get(name)!);
        }
      },
    };
  }

  test('every flipped byte of every file is caught with file and offset', async () => {
    const { names, originals, readWith } = await fixture();
    for (const name of names) {
      const bytes = originals.get(name)!;
      for (let offset = 0; offset < bytes.length; offset += Math.max(1, Math.floor(bytes.length / 150))) {
        const copy = Buffer.from(bytes);
        copy[offset] ^= 0x5a;
        const error = await readWith(name, copy);
        if (error === undefined) throw new Error(`flipping ${name}@${offset} went unnoticed`);
        expect(error).toBeInstanceOf(CorruptSavepointError);
        expect((error as CorruptSavepointError).file).toContain(name);
        expect((error as CorruptSavepointError).offset).toBeTypeOf('number');
      }
    }
  });

  test('every truncation of every file is caught', async () => {
    const { names, originals, readWith } = await fixture();
    for (const name of names) {
      const bytes = originals.get(name)!;
      for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 150))) {
        const error = await readWith(name, bytes.subarray(0, cut));
        expect(error, `${name} cut at ${cut}`).toBeInstanceOf(CorruptSavepointError);
        expect((error as CorruptSavepointError).message).toContain(name);
      }
    }
  });

  test('a missing data file is named', async () => {
    const { readWith } = await fixture();
    const error = await readWith('op0-kg4-7.dat', undefined);
    expect(error).toBeInstanceOf(CorruptSavepointError);
    expect(String(error)).toMatch(/op0-kg4-7\.dat.*missing/);
  });
});
