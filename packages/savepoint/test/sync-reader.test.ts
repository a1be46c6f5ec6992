/**
 * Synchronous ranged reads (`openSyncSource`), from a directory and from S3. The S3 reads run the
 * built worker (dist), and s3rver runs in a process of its own: a synchronous read blocks this
 * thread, so a server in it could never answer.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CorruptSavepointError, SavepointStorageError } from '@stateshift/core';
import { FileSystemStorage, S3Storage, type SyncObjectSource } from '../dist/index.js';
import { startS3Process, type ProcessS3 } from './s3-process.js';
import { BUCKET, CREDENTIALS } from './s3-server.js';

const bytes = randomBytes(3 * 1024 * 1024 + 17);
const expectBytes = (got: Uint8Array, start: number, length: number) => expect(Buffer.from(got).equals(bytes.subarray(start, start + length))).toBe(true);

/** Reads every range the layer reads: the header, a middle range, a range over the end, a large one. */
function checkRanges(source: SyncObjectSource, name: string): void {
  const reader = source.openSync(name)!;
  expect(reader.size).toBe(bytes.length);
  expectBytes(reader.readSync(0, 21), 0, 21);
  expectBytes(reader.readSync(1000, 4096), 1000, 4096);
  expectBytes(reader.readSync(bytes.length - 10, 100), bytes.length - 10, 10);
  expect(reader.readSync(bytes.length, 5).length).toBe(0);
  expectBytes(reader.readSync(5, bytes.length - 5), 5, bytes.length - 5);
  reader.close();
}

describe('synchronous reads from a directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stateshift-sync-'));
    await writeFile(join(dir, 'a.dat'), bytes);
    await symlink(join(dir, 'a.dat'), join(dir, 'link.dat'));
    await mkdir(join(dir, 'sub.dat'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('ranges read back exactly; a missing file is undefined', async () => {
    const source = await new FileSystemStorage(dir).openSyncSource();
    checkRanges(source, 'a.dat');
    expect(source.openSync('missing.dat')).toBeUndefined();
    source.close();
  });

  test('a link or a directory is refused with CorruptSavepointError naming it', async () => {
    const source = await new FileSystemStorage(dir).openSyncSource();
    expect(() => source.openSync('link.dat')).toThrow(CorruptSavepointError);
    expect(() => source.openSync('link.dat')).toThrow(/link\.dat: is a symbolic link/);
    expect(() => source.openSync('sub.dat')).toThrow(/sub\.dat: is a directory/);
    expect(() => source.openSync('../a.dat')).toThrow(TypeError);
  });
});

describe('synchronous reads from S3 (s3rver in a child process)', () => {
  let s3: ProcessS3;
  const location = `s3://${BUCKET}/sync`;
  beforeAll(async () => {
    s3 = await startS3Process();
    await s3.put('sync/a.dat', bytes);
  });
  afterAll(() => s3?.close());

  test('ranges read back exactly (each a ranged GET by the worker); a missing object is undefined', async () => {
    const source = await new S3Storage(location, s3.options).openSyncSource();
    checkRanges(source, 'a.dat');
    expect(source.openSync('missing.dat')).toBeUndefined();
    source.close();
    expect(() => source.openSync('a.dat')).toThrow(TypeError);
  });

  test('credentials from a provider function, and from an S3Client of the user', async () => {
    for (const options of [{ ...s3.options, credentials: async () => CREDENTIALS }, { client: s3.client }]) {
      const source = await new S3Storage(location, options).openSyncSource();
      checkRanges(source, 'a.dat');
      source.close();
    }
  });

  test('a client that is not an S3Client of the SDK v3 is a TypeError (its settings cannot reach the worker)', async () => {
    await expect(new S3Storage(location, { client: {} }).openSyncSource()).rejects.toThrow(/must be an S3Client of @aws-sdk\/client-s3 v3/);
    await expect(new S3Storage(location, s3.options).openSyncSource({ timeoutMs: -1 })).rejects.toThrow(TypeError);
  });

  test('an object replaced after it was opened is not read (its ETag changed)', async () => {
    await s3.put('sync/b.dat', bytes.subarray(0, 1000));
    const source = await new S3Storage(location, s3.options).openSyncSource();
    const reader = source.openSync('b.dat')!;
    await s3.put('sync/b.dat', randomBytes(1000));
    expect(() => reader.readSync(0, 100)).toThrow(SavepointStorageError);
    expect(() => reader.readSync(0, 100)).toThrow(/sync\/b\.dat: cannot read b\.dat bytes 0-99: PreconditionFailed: the object changed since it was opened/);
    source.close();
  });

  test('wrong credentials: SavepointStorageError (access), not a hang', async () => {
    const source = await new S3Storage(location, { ...s3.options, credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong' } }).openSyncSource();
    let error: unknown;
    try {
      source.openSync('a.dat');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SavepointStorageError);
    expect((error as SavepointStorageError).reason).toBe('access');
    source.close();
  });

  test('a server that does not answer: the read fails after timeoutMs with SavepointStorageError naming object and range', async () => {
    const source = await new S3Storage(location, s3.options).openSyncSource({ timeoutMs: 500 });
    const reader = source.openSync('a.dat')!;
    s3.pause();
    try {
      expect(() => reader.readSync(100, 50)).toThrow(/s3:\/\/stateshift-test\/sync\/a\.dat: cannot read a\.dat bytes 100-149: no answer from the store within 500 ms/);
    } finally {
      s3.resume();
    }
    // The late answer of the timed-out read is dropped; the next read gets its own.
    expectBytes(reader.readSync(200, 10), 200, 10);
    source.close();
  });

  test('a server that is gone: SavepointStorageError (io)', async () => {
    const source = await new S3Storage(location, { ...s3.options, endpoint: 'http://127.0.0.1:9' }).openSyncSource();
    expect(() => source.openSync('a.dat')).toThrow(SavepointStorageError);
    source.close();
  });

  test('an open source never keeps a process alive (its worker is unref-ed)', async () => {
    const script = `
      import { S3Storage } from ${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))};
      const source = await new S3Storage(${JSON.stringify(location)}, ${JSON.stringify(s3.options)}).openSyncSource();
      console.log(source.openSync('a.dat').readSync(0, 4).length);
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    expect(out.trim()).toBe('4');
  });
});
