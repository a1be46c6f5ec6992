/**
 * Restores in place from S3: the savepoint's data objects are read by ranged GETs (a worker thread,
 * waited for synchronously). s3rver runs in a child process: a synchronous read blocks this thread,
 * so a server in it could never answer.
 *
 * The backend suite runs in this mode: its factory copies each savepoint the suite restores from to
 * S3 first and restores from the s3:// copy.
 */
import { fork } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backendSuite, runBackendCorruptionSuite } from '@stateshift/backend/testing';
import { CorruptSavepointError, defineJob, int32, int64, listState, mapState, operator, SavepointStorageError, string, supports, valueState, type BackendOpenOptions } from '@stateshift/core';
import { startS3Process, type ProcessS3 } from '../../savepoint/test/s3-process.js';
import { BUCKET } from '../../savepoint/test/s3-server.js';
import { openLsmBackend } from '../src/index.js';
import { expectDamagedReads, tempDir } from './helpers.js';
// @ts-expect-error a plain ES module shared with the child process, without types
import { inPlaceJob } from './fixtures/in-place-job.mjs';

let s3: ProcessS3;
beforeAll(async () => {
  s3 = await startS3Process();
});
afterAll(() => s3?.close());


let uploads = 0;
/** Copies a savepoint directory to a new S3 prefix; its s3:// location. */
async function upload(dir: string): Promise<string> {
  const prefix = `sp-${uploads++}`;
  for (const name of await readdir(dir)) await s3.put(`${prefix}/${name}`, await readFile(join(dir, name)));
  return `s3://${BUCKET}/${prefix}`;
}

/** Restores from an S3 copy of the savepoint the suite names (anything but a savepoint is passed on as it is). */
const factory = async (options: BackendOpenOptions) => {
  let restoreFrom = options.restoreFrom;
  if (restoreFrom !== undefined && (await readdir(restoreFrom).catch((): string[] => [])).includes('_metadata')) restoreFrom = await upload(restoreFrom);
  return openLsmBackend({
    ...options,
    ...(restoreFrom !== undefined ? { restoreFrom } : {}),
    storage: { s3: s3.options },
    dir: options.dir ?? (await tempDir()),
    migration: 'lazy',
    restore: 'in-place',
  });
};
backendSuite({ test, factory, supports: supports({ persistence: true, lazyMigration: true, keepsOldVersions: true, backgroundMigration: true, inPlaceRestore: true }), name: 'lsm (in place from S3)' });

test('the suite restored from S3 copies', () => {
  expect(uploads).toBeGreaterThan(20);
});

test('lsm (in place from S3) restore: every 20th flipped byte and truncation of _metadata and a data file is a typed error or the original values', async () => {
  const report = await runBackendCorruptionSuite({ factory, every: 20 });
  expect(report.failures).toEqual([]);
  expect(report.cases).toBeGreaterThan(2000 / 20);
  expect(report.typedErrors + report.original).toBe(report.cases);
}, 900_000);

const v = valueState('v', int64());
const l = listState('l', string());
const m = mapState('m', string(), int32());
const op = operator({ uid: 'op', key: string(), states: [v, l, m] });
const job = defineJob({ name: 'lsm', maxParallelism: 32, operators: [op] });

/** A savepoint of `keys` keys (value, list and map state) on S3. */
async function savepointOnS3(keys: number): Promise<string> {
  const root = await tempDir();
  const first = await openLsmBackend({ job, dir: join(root, 'v1') });
  for (let i = 0; i < keys; i++) {
    first.operator(op).value(v).set(`k${i}`, BigInt(i));
    first.operator(op).list(l).addAll(`k${i}`, [`a${i}`, `b${i}`]);
    first.operator(op).map(m).putAll(`k${i}`, [['x', i], ['y', -i]]);
  }
  await first.savepoint(join(root, 'sp'));
  await first.close();
  return upload(join(root, 'sp'));
}

const storage = () => ({ s3: s3.options });

describe('restore in place from S3 (s3rver in a child process)', () => {
  test('every key reads right, scans merge, writes shadow; a reopen attaches S3 again; a savepoint during the pass is complete; the pass ends and the layer is dropped', async () => {
    const sp = await savepointOnS3(1500);
    const root = await tempDir();
    const backend = await openLsmBackend({ job, dir: join(root, 'db'), restoreFrom: sp, storage: storage(), restore: 'in-place', copyRate: 1 });
    expect(backend.lower?.location).toBe(sp);
    const h = backend.operator(op);
    for (let i = 0; i < 1500; i++) {
      expect(h.value(v).get(`k${i}`)).toBe(BigInt(i));
      expect(h.list(l).get(`k${i}`)).toEqual([`a${i}`, `b${i}`]);
      expect(h.map(m).get(`k${i}`, 'y')).toBe(i ? -i : 0);
    }
    h.value(v).clear('k1');
    h.map(m).put('k3', 'z', 3);
    h.list(l).add('k4', 'c4');
    expect(h.value(v).get('k1')).toBeUndefined();
    const entries = new Map<unknown, unknown>();
    for await (const [mk, value] of h.map(m).entries('k3')) entries.set(mk, value);
    expect(entries).toEqual(new Map([['x', 3], ['y', -3], ['z', 3]]));
    let keys = 0;
    for await (const _ of h.keys(v)) keys++;
    expect(keys).toBe(1499);
    await backend.checkpoint();
    await backend.close();

    // Reopened (the storage options reach S3 again) while the pass is far from done.
    const again = await openLsmBackend({ job, dir: join(root, 'db'), storage: storage(), copyRate: 1 });
    expect(again.lower).toBeDefined();
    const a = again.operator(op);
    expect(a.value(v).get('k1')).toBeUndefined();
    expect(a.list(l).get('k4')).toEqual(['a4', 'b4', 'c4']);
    expect(a.value(v).get('k1499')).toBe(1499n);
    // A savepoint taken while nearly everything is still on S3 holds every entry.
    const during = join(root, 'during');
    await again.savepoint(during);
    await again.close();
    const copied = await openLsmBackend({ job, dir: join(root, 'copied'), restoreFrom: during });
    const c = copied.operator(op);
    for (let i = 0; i < 1500; i++) {
      expect(c.value(v).get(`k${i}`)).toBe(i === 1 ? undefined : BigInt(i));
      expect(c.list(l).get(`k${i}`)).toEqual(i === 4 ? ['a4', 'b4', 'c4'] : [`a${i}`, `b${i}`]);
    }
    expect(c.map(m).get('k3', 'z')).toBe(3);
    await copied.close();

    // Without a rate the pass copies everything; the next checkpoint drops the layer (and its worker).
    const last = await openLsmBackend({ job, dir: join(root, 'db'), storage: storage() });
    await last.copying!.done;
    await last.checkpoint();
    expect(last.lower).toBeUndefined();
    const z = last.operator(op);
    for (let i = 0; i < 1500; i++) expect(z.map(m).get(`k${i}`, 'x')).toBe(i);
    expect(z.value(v).get('k1')).toBeUndefined();
    await last.close();
  });

  test('a damaged byte in a data object gives CorruptSavepointError naming the object URL and offset, never a wrong value', async () => {
    const sp = await savepointOnS3(300);
    const prefix = sp.slice(`s3://${BUCKET}/`.length);
    const name = (await s3.keys(`${prefix}/`)).find((k) => k.endsWith('.dat'))!;
    const bytes = await s3.get(name);
    bytes[bytes.length - 3] ^= 0x40;
    await s3.put(name, bytes);
    const backend = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: sp, storage: storage(), restore: 'in-place', copyRate: 1 });
    expectDamagedReads((key) => backend.operator(op).value(v).get(key), 300, `s3://${BUCKET}/${name}`);
    await backend.close();
  });

  test('a missing data object fails the restore with CorruptSavepointError naming it', async () => {
    const sp = await savepointOnS3(50);
    const prefix = sp.slice(`s3://${BUCKET}/`.length);
    const name = (await s3.keys(`${prefix}/`)).find((k) => k.endsWith('.dat'))!;
    await s3.remove(name);
    const error = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: sp, storage: storage(), restore: 'in-place' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptSavepointError);
    expect((error as Error).message).toContain(`s3://${BUCKET}/${name}: data file is missing`);
  });

  test('a bucket that does not exist fails the restore with SavepointStorageError', async () => {
    const error = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: 's3://no-such-bucket/sp', storage: storage(), restore: 'in-place' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SavepointStorageError);
    expect((error as SavepointStorageError).reason).toBe('bucket');
  });

  test('a server that stops answering: a read fails after inPlaceReadTimeout with SavepointStorageError naming object and range, not a hang', async () => {
    const sp = await savepointOnS3(50);
    const backend = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: sp, storage: storage(), restore: 'in-place', copyRate: 1, inPlaceReadTimeout: 500 });
    s3.pause();
    // The first read of a key group the copy pass has not cached reads S3.
    let error: unknown;
    try {
      for (let i = 0; i < 50 && !error; i++) {
        try {
          expect(backend.operator(op).value(v).get(`k${i}`)).toBe(BigInt(i));
        } catch (e) {
          error = e;
        }
      }
    } finally {
      s3.resume();
    }
    expect(error).toBeInstanceOf(SavepointStorageError);
    expect((error as Error).message).toMatch(new RegExp(`${sp}/[^:]+\\.dat: cannot read [^ ]+\\.dat bytes \\d+-\\d+: no answer from the store within 500 ms`));
    // Answering again, the same read is served.
    expect(backend.operator(op).value(v).get('k7')).toBe(7n);
    await backend.close();
  });

  test('an inPlaceReadTimeout that is not a positive number is a TypeError', async () => {
    const sp = await savepointOnS3(5);
    await expect(openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: sp, storage: storage(), restore: 'in-place', inPlaceReadTimeout: 0 })).rejects.toThrow(TypeError);
  });

  test('SIGKILLed during the copy pass at random moments: a reopen reaches S3 again, gives every checkpointed write and restored entry, and the pass ends', async () => {
    const KEYS = 1500;
    const root = await tempDir();
    const seed = await openLsmBackend({ job: inPlaceJob, dir: join(root, 'seed') });
    const op = seed.operator('op');
    for (let i = 0; i < KEYS; i++) {
      op.value('v').set(`k${i}`, BigInt(i));
      op.list('l').addAll(`k${i}`, [`a${i}`, `b${i}`]);
      op.map('m').put(`k${i}`, 'x', i);
    }
    await seed.savepoint(join(root, 'sp'));
    await seed.close();
    const url = await upload(join(root, 'sp'));
    const child = fileURLToPath(new URL('./fixtures/in-place-s3-child.mjs', import.meta.url));
    let killedDuringPass = 0;
    let resumed = 0;
    for (let round = 0; round < 4; round++) {
      const dir = join(root, `db-${round}`);
      const proc = fork(child, [dir, url, JSON.stringify(storage()), String(KEYS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      let finished = false;
      await new Promise<void>((resolve, reject) => {
        proc.on('message', (m: { checkpointed?: boolean; finished?: boolean }) => {
          if (m.finished) finished = true;
          if (m.checkpointed) resolve();
        });
        proc.once('exit', (code) => reject(new Error(`the child exited with code ${code} before its checkpoint`)));
      });
      // Somewhere in the pass (3 states of KEYS entries at 3000 a second).
      await new Promise((resolve) => setTimeout(resolve, 100 + round * 350));
      proc.kill('SIGKILL');
      await exited;
      if (!finished) killedDuringPass++;

      const reopened = await openLsmBackend({ job: inPlaceJob, dir, storage: storage() });
      const check = () => {
        const h = reopened.operator('op');
        for (let i = 0; i < KEYS; i += 7) {
          expect(h.value('v').get(`k${i}`)).toBe(BigInt(i % 10 === 0 ? -i : i));
          expect(h.list('l').get(`k${i}`)).toEqual([`a${i}`, `b${i}`]);
          expect(h.map('m').get(`k${i}`, 'x')).toBe(i);
        }
      };
      check();
      if (reopened.lower) {
        resumed++;
        await reopened.copying!.done;
      }
      await reopened.checkpoint();
      expect(reopened.lower).toBeUndefined();
      check();
      await reopened.close();
    }
    expect(killedDuringPass).toBeGreaterThan(0);
    expect(resumed).toBeGreaterThan(0);
  }, 120_000);
});
