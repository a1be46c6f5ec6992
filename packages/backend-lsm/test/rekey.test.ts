import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DataOutput, defineJob, int32, KeyCollisionError, keyGroupOf, listState, mapState, operator, RestoreError, string, valueState } from '@stateshift/core';
import { FIRST_VERSION, layoutOfJob, SavepointWriter, writeSavepointEntries, type RawEntry } from '@stateshift/savepoint';
import { openHeapBackend } from '@stateshift/backend-heap';
import { openLsmBackend } from '../src/index.js';
import { countsJob, tempDir } from './helpers.js';

async function savepointOf(n: number) {
  const dir = await tempDir();
  const backend = await openLsmBackend({ job: countsJob(), dir: join(dir, 'db') });
  const op = backend.operator('op');
  for (let i = 0; i < n; i++) {
    op.value('count').set(`k${i}`, i);
    op.list('events').addAll(`k${i}`, [`a${i}`, `b${i}`]);
    op.map('seen').putAll(`k${i}`, [
      ['x', i],
      ['y', 1000 + i],
    ]);
  }
  await backend.savepoint(join(dir, 'sp'));
  await backend.close();
  return { dir, savepoint: join(dir, 'sp') };
}

const intKeyed = (migrateKey: (k: unknown) => number) =>
  defineJob({
    name: 'counts',
    maxParallelism: 32,
    operators: [
      operator({
        uid: 'op',
        key: int32(),
        migrateKey,
        states: [valueState('count', int32()), listState('events', string()), mapState('seen', string(), int32())],
      }),
    ],
  });

test('a key migration re-keys while restoring; lists and maps included; two old keys that become one fail with KeyCollisionError', async () => {
  const { dir, savepoint } = await savepointOf(50);
  const backend = await openLsmBackend({ job: intKeyed((k) => Number(String(k).slice(1))), dir: join(dir, 'rekeyed'), restoreFrom: savepoint });
  const op = backend.operator('op');
  for (let i = 0; i < 50; i++) {
    expect(op.value('count').get(i)).toBe(i);
    expect(op.list('events').get(i)).toEqual([`a${i}`, `b${i}`]);
    expect(op.map('seen').get(i, 'x')).toBe(i);
  }
  await backend.close();
  await expect(openLsmBackend({ job: intKeyed(() => 1), dir: join(dir, 'collides'), restoreFrom: savepoint })).rejects.toThrow(KeyCollisionError);
});

const bytesOf = (write: (out: DataOutput) => void) => {
  const out = new DataOutput();
  write(out);
  return out.toBytes();
};
const keyBytes = (k: string) => bytesOf((o) => string().serialize(k, o));
/** An element of countsJob's list state "events" (state 1). */
const element = (k: string, s: string, maxParallelism: number): RawEntry => ({
  state: 1,
  keyGroup: keyGroupOf(keyBytes(k), maxParallelism),
  key: keyBytes(k),
  namespace: new Uint8Array(0),
  mapKey: new Uint8Array(0),
  version: FIRST_VERSION,
  value: bytesOf((o) => string().serialize(s, o)),
});
/** `n` keys of key group `keyGroup`, none of them `not`. */
const keysOf = (keyGroup: number, n: number, maxParallelism: number, not = '') =>
  Array.from({ length: 5000 }, (_, i) => `k${i}`)
    .filter((k) => k !== not && keyGroupOf(keyBytes(k), maxParallelism) === keyGroup)
    .slice(0, n);

test('a list whose elements are not stored together is refused, re-keyed or not, naming the state', async () => {
  const dir = await tempDir();
  const job = countsJob();
  const p = job.maxParallelism;
  // Another key of k1's key group, so that its element can sit between two of k1's.
  const [other] = keysOf(keyGroupOf(keyBytes('k1'), p), 1, p, 'k1');
  await writeSavepointEntries(join(dir, 'sp'), layoutOfJob(job), { start: 0, end: p - 1 }, [{ uid: 'op', entries: [element('k1', 'a', p), element(other, 'x', p), element('k1', 'b', p)] }]);
  for (const [name, restoring] of [['as stored', job], ['re-keyed', intKeyed((k) => Number(String(k).slice(1)))]] as const) {
    const error = await openLsmBackend({ job: restoring, dir: join(dir, name), restoreFrom: join(dir, 'sp') }).catch((e: unknown) => e);
    expect(error, name).toBeInstanceOf(RestoreError);
    expect((error as Error).message, name).toMatch(/state "events": the elements of one list are not stored together/);
  }
});

/**
 * Two data files of one operator over the same key groups (the format allows it; this package's
 * writers do not produce it): `first` holds lists of key groups g and then h, `second` lists of g.
 */
async function twoFiles(first: RawEntry[], second: RawEntry[]): Promise<string> {
  const location = join(await tempDir(), 'sp');
  const job = countsJob();
  const writer = await SavepointWriter.create(location, layoutOfJob(job));
  for (const [part, entries] of [['a', first], ['b', second]] as const) {
    const file = await writer.openDataFile('op', { start: 0, end: job.maxParallelism - 1 }, part);
    for (const entry of entries) await file.append(entry);
    await writer.closeDataFile(file);
  }
  await writer.commit();
  return location;
}

test('lists of one key group in two data files restore whole; one list split over the two is refused', async () => {
  const job = countsJob();
  const p = job.maxParallelism;
  const [k1, k2] = keysOf(3, 2, p);
  const [later] = keysOf(7, 1, p);
  // The restore moves on from key group 3 to 7 in the first file before the second file brings 3 again.
  const spread = await twoFiles([element(k1, 'a', p), element(k1, 'b', p), element(later, 'c', p)], [element(k2, 'd', p), element(k2, 'e', p)]);
  const backend = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: spread });
  const events = backend.operator('op').list('events');
  expect([events.get(k1), events.get(later), events.get(k2)]).toEqual([['a', 'b'], ['c'], ['d', 'e']]);
  await backend.close();

  const split = await twoFiles([element(k1, 'a', p), element(later, 'c', p)], [element(k1, 'b', p)]);
  const error = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: split }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RestoreError);
  expect((error as Error).message).toMatch(/state "events": the elements of one list are not stored together/);
  // What the error advises: the heap backend joins the runs, and its savepoint stores each list whole.
  expect((error as Error).message).toMatch(/openHeapBackend/);
  const heap = await openHeapBackend({ job, restoreFrom: split });
  const whole = join(await tempDir(), 'whole');
  await heap.savepoint(whole);
  await heap.close();
  const restored = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: whole });
  expect([restored.operator('op').list('events').get(k1), restored.operator('op').list('events').get(later)]).toEqual([['a', 'b'], ['c']]);
  await restored.close();

  // A restore in place reads a list from one file: it refuses lists whose key groups two files hold.
  const inPlace = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: spread, restore: 'in-place' }).catch((e: unknown) => e);
  expect(inPlace).toBeInstanceOf(RestoreError);
  expect((inPlace as Error).message).toMatch(/state "events": more than one data file .* holds this state's key groups 3, .*come back short.*restore: 'copy'/);
});

test('a restore in place refuses a value state whose key groups two data files hold: a key in both would read as the first file has it', async () => {
  const job = countsJob();
  const p = job.maxParallelism;
  const [k1] = keysOf(3, 1, p);
  const count = (n: number): RawEntry => ({ ...element(k1, '', p), state: 0, value: bytesOf((o) => int32().serialize(n, o)) });
  const both = await twoFiles([count(1)], [count(2)]);
  const inPlace = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: both, restore: 'in-place' }).catch((e: unknown) => e);
  expect(inPlace).toBeInstanceOf(RestoreError);
  expect((inPlace as Error).message).toMatch(/state "count": more than one data file .* holds this state's key groups 3, .*read differently.*restore: 'copy'/);
  // The advice: a copying restore keeps the last file's value.
  const copied = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: both, restore: 'copy' });
  expect(copied.operator('op').value('count').get(k1)).toBe(2);
  await copied.close();
});

test('in place, two data files may share a key group when each holds other states of it: reads and scans find each state', async () => {
  const job = countsJob();
  const p = job.maxParallelism;
  const [k1] = keysOf(3, 1, p);
  const count: RawEntry = { ...element(k1, '', p), state: 0, value: bytesOf((o) => int32().serialize(7, o)) };
  const sp = await twoFiles([count], [element(k1, 'a', p), element(k1, 'b', p)]);
  const backend = await openLsmBackend({ job, dir: join(await tempDir(), 'db'), restoreFrom: sp, restore: 'in-place', copyRate: 1 });
  const h = backend.operator('op');
  const keys = async (state: 'count' | 'events') => {
    const found: unknown[] = [];
    for await (const { key } of h.keys(state)) found.push(key);
    return found;
  };
  expect([h.value('count').get(k1), h.list('events').get(k1)]).toEqual([7, ['a', 'b']]);
  expect([await keys('count'), await keys('events')]).toEqual([[k1], [k1]]);
  await backend.close();
});
