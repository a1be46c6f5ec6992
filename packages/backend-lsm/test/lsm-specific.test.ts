import { join } from 'node:path';
import { expect, test } from 'vitest';
import { BackendLockedError, defineJob, int32, int64, listState, operator, RestoreError, string, valueState, type Serializer } from '@stateshift/core';
import { openSavepoint } from '@stateshift/savepoint';
import { ClassicLevel } from 'classic-level';
import { openLsmBackend, type MigrationProgress } from '../src/index.js';
import { countsJob, countsJob64, tempDir } from './helpers.js';

const position = (n: number) => new TextEncoder().encode(String(n));

async function seeded(n: number) {
  const dir = await tempDir();
  const backend = await openLsmBackend({ job: countsJob(), dir: join(dir, 'db') });
  const op = backend.operator('op');
  for (let i = 0; i < n; i++) {
    op.value('count').set(`k${i}`, i);
    op.list('events').addAll(`k${i}`, [`e${i}`, `f${i}`]);
  }
  await backend.checkpoint({ position: position(n) });
  const savepoint = join(dir, 'sp');
  await backend.savepoint(savepoint);
  return { dir, backend, savepoint };
}

test('reopening gives the last checkpoint: its state and its position, not later writes', async () => {
  const { dir, backend } = await seeded(50);
  backend.operator('op').value('count').set('k7', 700);
  backend.operator('op').value('count').set('late', 1);
  await backend.close();
  const reopened = await openLsmBackend({ job: countsJob(), dir: join(dir, 'db') });
  expect(new TextDecoder().decode(reopened.position)).toBe('50');
  const op = reopened.operator('op');
  expect(op.value('count').get('k7')).toBe(7);
  expect(op.value('count').get('late')).toBeUndefined();
  expect(op.list('events').get('k7')).toEqual(['e7', 'f7']);
  op.list('events').add('k7', 'again');
  expect(op.list('events').get('k7')).toEqual(['e7', 'f7', 'again']);
  await reopened.close();
});

test('a full write buffer is written before the checkpoint with undo records: a crash undoes it', async () => {
  const dir = join(await tempDir(), 'db');
  const backend = await openLsmBackend({ job: countsJob(), dir, writeBufferSize: { entries: 10 } });
  const op = backend.operator('op');
  for (let i = 0; i < 30; i++) op.value('count').set(`k${i}`, i);
  op.map('seen').putAll('m', [['a', 1], ['b', 2]]);
  await backend.checkpoint({ position: position(1) });
  for (let i = 0; i < 100; i++) op.value('count').set(`k${i}`, 1000 + i);
  op.map('seen').clear('m');
  op.list('events').add('k1', 'uncommitted');
  // Let the flushes of the full buffer land, then "crash": the process state is dropped, the
  // database is left as it is (close() writes nothing since the checkpoint).
  for await (const _ of op.keys('count'));
  const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await backend.close();
  await raw.open();
  let undo = 0;
  for await (const key of raw.keys()) if (key[0] === 0xff && key[1] === 0xfe) undo++;
  expect(undo).toBeGreaterThan(50);
  await raw.close();
  const reopened = await openLsmBackend({ job: countsJob(), dir });
  const r = reopened.operator('op');
  for (let i = 0; i < 100; i++) expect(r.value('count').get(`k${i}`)).toBe(i < 30 ? i : undefined);
  expect(r.map('seen').get('m', 'b')).toBe(2);
  expect(r.list('events').get('k1')).toEqual([]);
  expect(new TextDecoder().decode(reopened.position)).toBe('1');
  await reopened.close();
});

test('a list is one LevelDB value; a map clear removes stored and buffered entries under its key only', async () => {
  const dir = join(await tempDir(), 'db');
  const backend = await openLsmBackend({ job: countsJob(), dir });
  const op = backend.operator('op');
  op.list('events').addAll('a', ['x', 'y', 'z']);
  op.map('seen').putAll('m', [['a', 1], ['b', 2]]);
  op.map('seen').putAll('m2', [['a', 1]]);
  await backend.checkpoint();
  op.map('seen').put('m', 'c', 3);
  op.map('seen').clear('m');
  expect(op.map('seen').get('m', 'a')).toBeUndefined();
  expect(op.map('seen').get('m', 'c')).toBeUndefined();
  op.map('seen').put('m', 'd', 4);
  expect(op.map('seen').get('m', 'd')).toBe(4);
  await backend.checkpoint();
  const entries: unknown[] = [];
  for await (const e of op.map('seen').entries('m')) entries.push(e);
  expect(entries).toEqual([['d', 4]]);
  expect(op.map('seen').get('m2', 'a')).toBe(1);
  await backend.close();
  const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  let lists = 0;
  for await (const key of raw.keys({ lt: new Uint8Array([0xff]) })) if (key[1] === 1) lists++;
  expect(lists).toBe(1);
  await raw.close();
});

test('state identity: operator "a/b" with state "c" and operator "a" with state "b/c" do not share entries', async () => {
  const job = defineJob({
    name: 'ids',
    maxParallelism: 8,
    operators: [
      operator({ uid: 'a/b', key: string(), states: [valueState('c', int32())] }),
      operator({ uid: 'a', key: string(), states: [valueState('b/c', int32())] }),
    ],
  });
  const dir = join(await tempDir(), 'db');
  const backend = await openLsmBackend({ job, dir });
  backend.operator('a/b').value('c').set('k', 1);
  backend.operator('a').value('b/c').set('k', 2);
  await backend.checkpoint();
  await backend.close();
  const reopened = await openLsmBackend({ job, dir });
  expect(reopened.operator('a/b').value('c').get('k')).toBe(1);
  expect(reopened.operator('a').value('b/c').get('k')).toBe(2);
  await reopened.close();
});

test('a database of the previous layout is refused with a RestoreError saying how to move it', async () => {
  const dir = join(await tempDir(), 'db');
  const backend = await openLsmBackend({ job: countsJob(), dir });
  await backend.close();
  const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await raw.open();
  for await (const key of raw.keys()) if (new TextDecoder().decode(key).includes('layout-version')) await raw.del(key);
  await raw.close();
  await expect(openLsmBackend({ job: countsJob(), dir })).rejects.toThrow(/previous release[\s\S]*savepoint/);
});

test('a second backend on the same directory fails at once with BackendLockedError', async () => {
  const dir = join(await tempDir(), 'db');
  const backend = await openLsmBackend({ job: countsJob(), dir });
  await expect(openLsmBackend({ job: countsJob(), dir })).rejects.toThrow(BackendLockedError);
  await backend.close();
  const again = await openLsmBackend({ job: countsJob(), dir });
  await again.close();
});

test('a savepoint is a consistent cut: writes after savepoint() is called are not in it', async () => {
  const { dir, backend } = await seeded(20);
  const op = backend.operator('op');
  op.value('count').set('k1', 100);
  const written = backend.savepoint(join(dir, 'cut'), { position: position(21) });
  op.value('count').set('k1', 200);
  op.list('events').add('k1', 'after');
  const { entries } = await written;
  expect(entries).toBe(20 + 40);
  await backend.close();
  const restored = await openLsmBackend({ job: countsJob(), dir: join(dir, 'restored'), restoreFrom: join(dir, 'cut') });
  expect(restored.operator('op').value('count').get('k1')).toBe(100);
  expect(restored.operator('op').list('events').get('k1')).toEqual(['e1', 'f1']);
  expect(new TextDecoder().decode(restored.position)).toBe('21');
  await restored.close();
});

test('eager migration on reopening, with progress; old versions retired', async () => {
  const { dir, backend } = await seeded(2500);
  await backend.close();
  const progress: MigrationProgress[] = [];
  const v2 = await openLsmBackend({ job: countsJob64(), dir: join(dir, 'db'), onProgress: (p) => progress.push(p) });
  expect(v2.operator('op').value('count').get('k2499')).toBe(2499n);
  expect(progress.at(-1)).toMatchObject({ phase: 'migration', operator: 'op', state: 'count', done: 2500, total: 2500 });
  expect(v2.meta.layout.operators[0].states[0].versions).toHaveLength(1);
  await v2.close();
});

test('lazy: old entries read through their version, new writes use the newest, a savepoint keeps both; the background pass retires the old one at a checkpoint', async () => {
  const { dir, savepoint, backend } = await seeded(300);
  await backend.close();
  const lazy = await openLsmBackend({ job: countsJob64(), dir: join(dir, 'lazy'), restoreFrom: savepoint, migration: 'lazy' });
  expect(lazy.meta.layout.operators[0].states[0].versions.map((v) => v.id)).toEqual([1, 2]);
  const count = lazy.operator('op').value('count');
  expect(count.get('k5')).toBe(5n);
  count.set('k5', 50n);
  expect(count.get('k5')).toBe(50n);
  await lazy.checkpoint();
  const sp2 = join(dir, 'sp2');
  await lazy.savepoint(sp2);
  expect((await openSavepoint(sp2)).metadata.operators[0].states[0].versions).toHaveLength(2);
  await lazy.close();

  const background = await openLsmBackend({ job: countsJob64(), dir: join(dir, 'lazy'), migration: 'lazy', backgroundMigration: { rate: 0 } });
  background.background!.pause();
  background.operator('op').value('count').set('k6', 60n);
  background.background!.resume();
  await background.background!.done;
  // A write buffered during the pass is newer than what the pass read: it stays.
  expect(background.operator('op').value('count').get('k6')).toBe(60n);
  expect(background.meta.layout.operators[0].states[0].versions.map((v) => v.id)).toEqual([1, 2]);
  await background.checkpoint();
  expect(background.meta.layout.operators[0].states[0].versions.map((v) => v.id)).toEqual([2]);
  expect(background.operator('op').value('count').get('k299')).toBe(299n);
  await background.close();
  const reopened = await openLsmBackend({ job: countsJob64(), dir: join(dir, 'lazy'), migration: 'lazy' });
  expect(reopened.operator('op').value('count').get('k6')).toBe(60n);
  expect(reopened.operator('op').value('count').get('k7')).toBe(7n);
  await reopened.close();
});

test('misuse: restoring into a directory that holds state, or changing keys in place, fails clearly', async () => {
  const { dir, savepoint, backend } = await seeded(3);
  await backend.close();
  await expect(openLsmBackend({ job: countsJob(), dir: join(dir, 'db'), restoreFrom: savepoint })).rejects.toThrow(/already holds state/);
  const job = countsJob();
  const rekeyed = defineJob({ name: 'counts', maxParallelism: 32, operators: [operator({ ...job.operators[0], key: int32(), migrateKey: (k: unknown) => Number(String(k).slice(1)), states: [...job.operators[0].states] } as never)] });
  await expect(openLsmBackend({ job: rekeyed, dir: join(dir, 'db') })).rejects.toThrow(RestoreError);
});

test('lazy list: adding to a list stored at an older version moves the whole list to the newest', async () => {
  const listJob = <T>(element: Serializer<T>) => defineJob({ name: 'lists', maxParallelism: 8, operators: [operator({ uid: 'op', key: string(), states: [listState('l', element)] })] });
  const dir = await tempDir();
  const v1 = await openLsmBackend({ job: listJob(int32()), dir: join(dir, 'db') });
  v1.operator('op').list('l').addAll('a', [1, 2]);
  await v1.savepoint(join(dir, 'sp'));
  await v1.close();
  const v2 = await openLsmBackend({ job: listJob(int64()), dir: join(dir, 'lazy'), restoreFrom: join(dir, 'sp'), migration: 'lazy' });
  const l = v2.operator('op').list('l');
  expect(l.get('a')).toEqual([1n, 2n]);
  l.add('a', 3n);
  expect(l.get('a')).toEqual([1n, 2n, 3n]);
  await v2.checkpoint();
  await v2.savepoint(join(dir, 'sp2'));
  await v2.close();
  const v3 = await openLsmBackend({ job: listJob(int64()), dir: join(dir, 'again'), restoreFrom: join(dir, 'sp2') });
  expect(v3.operator('op').list('l').get('a')).toEqual([1n, 2n, 3n]);
  await v3.close();
});

test('TTL runs on the injected clock, onReadAndWrite refreshes through the write buffer and survives a checkpoint', async () => {
  let now = 1_000;
  const job = defineJob({
    name: 'ttl',
    maxParallelism: 8,
    operators: [operator({ uid: 'op', key: string(), states: [valueState('v', int32(), { ttl: { ttlMs: 100, update: 'onReadAndWrite' } })] })],
  });
  const dir = join(await tempDir(), 'db');
  const backend = await openLsmBackend({ job, dir, now: () => now });
  const v = backend.operator('op').value('v');
  v.set('a', 1);
  v.set('b', 2);
  now += 90;
  expect(v.get('a')).toBe(1);
  await backend.checkpoint();
  await backend.close();
  now += 50;
  const reopened = await openLsmBackend({ job, dir, now: () => now });
  expect(reopened.operator('op').value('v').get('a')).toBe(1);
  expect(reopened.operator('op').value('v').get('b')).toBeUndefined();
  await reopened.close();
});
