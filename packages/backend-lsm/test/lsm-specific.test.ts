import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { defineJob, int32, int64, listState, operator, RestoreError, string, valueState } from '@stateshift/core';
import { openHeapBackend } from '@stateshift/backend-heap';
import { openSavepoint } from '@stateshift/savepoint';
import { openLsmBackend, type MigrationProgress } from '../src/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stateshift-lsm-'));
  dirs.push(dir);
  return dir;
}

const job = (count: typeof int32 | typeof int64 = int32, key = string()) =>
  defineJob({
    name: 'counts',
    maxParallelism: 32,
    operators: [operator({ uid: 'op', key, states: [valueState('count', count() as never), listState('events', string())] })],
  });

async function seeded(n: number) {
  const dir = await tempDir();
  const backend = await openLsmBackend({ job: job(), dir: join(dir, 'db') });
  for (let i = 0; i < n; i++) {
    await backend.operator<string>('op').value<number>('count').set(`k${i}`, i);
    await backend.operator<string>('op').list<string>('events').add(`k${i}`, `e${i}`);
  }
  const savepoint = join(dir, 'sp');
  await backend.savepoint(savepoint);
  return { dir, backend, savepoint };
}

test('reopening the database restores its state without a savepoint', async () => {
  const { dir, backend } = await seeded(50);
  await backend.close();
  const reopened = await openLsmBackend({ job: job(), dir: join(dir, 'db') });
  expect(await reopened.operator('op').value('count').get('k7')).toBe(7);
  expect(await reopened.operator('op').list('events').get('k7')).toEqual(['e7']);
  await reopened.operator<string>('op').list<string>('events').add('k7', 'again');
  expect(await reopened.operator('op').list('events').get('k7')).toEqual(['e7', 'again']);
  await reopened.close();
});

test('reopening with a widened type migrates in place (eager), with progress', async () => {
  const { dir, backend } = await seeded(2500);
  await backend.close();
  const progress: MigrationProgress[] = [];
  const v2 = await openLsmBackend({ job: job(int64), dir: join(dir, 'db'), onProgress: (p) => progress.push(p) });
  expect(await v2.operator('op').value('count').get('k2499')).toBe(2499n);
  expect(progress.at(-1)).toMatchObject({ operator: 'op', state: 'count', done: 2500, total: 2500 });
  expect(progress.length).toBeGreaterThanOrEqual(3);
  expect(v2.meta.layout.operators[0].states[0].versions).toHaveLength(1);
  await v2.close();
});

test('lazy: old entries read through their version, new writes use the newest, the background pass retires the old version', async () => {
  const { dir, savepoint, backend } = await seeded(300);
  await backend.close();
  const lazy = await openLsmBackend({ job: job(int64), dir: join(dir, 'lazy'), restoreFrom: savepoint, migration: 'lazy' });
  expect(lazy.meta.layout.operators[0].states[0].versions.map((v) => v.id)).toEqual([1, 2]);
  expect(await lazy.operator('op').value('count').get('k5')).toBe(5n);
  await lazy.operator<string>('op').value<bigint>('count').set('k5', 50n);
  expect(await lazy.operator('op').value('count').get('k5')).toBe(50n);
  // A savepoint keeps both versions' entries as bytes; the heap backend reads it.
  const sp2 = join(dir, 'sp2');
  await lazy.savepoint(sp2);
  expect((await openSavepoint(sp2)).metadata.operators[0].states[0].versions).toHaveLength(2);
  const heap = await openHeapBackend({ job: job(int64), restoreFrom: sp2 });
  expect(await heap.operator('op').value('count').get('k5')).toBe(50n);
  expect(await heap.operator('op').value('count').get('k6')).toBe(6n);
  await lazy.close();

  const background = await openLsmBackend({ job: job(int64), dir: join(dir, 'lazy'), migration: 'lazy', backgroundMigration: { rate: 0 } });
  background.background!.pause();
  background.background!.resume();
  await background.background!.done;
  expect(background.meta.layout.operators[0].states[0].versions.map((v) => v.id)).toEqual([2]);
  expect(await background.operator('op').value('count').get('k299')).toBe(299n);
  await background.close();
});

test('per-state modes: one state eager, the rest lazy', async () => {
  const { dir, savepoint, backend } = await seeded(10);
  await backend.close();
  const b = await openLsmBackend({ job: job(int64), dir: join(dir, 'mixed'), restoreFrom: savepoint, migration: { default: 'lazy', states: { 'op/count': 'eager' } } });
  expect(b.meta.layout.operators[0].states[0].versions).toHaveLength(1);
  await b.close();
});

test('a heap savepoint restores here', async () => {
  const heap = await openHeapBackend({ job: job() });
  await heap.operator<string>('op').value<number>('count').set('a', 1);
  await heap.operator<string>('op').list<string>('events').addAll('a', ['x', 'y']);
  const dir = await tempDir();
  await heap.savepoint(join(dir, 'sp'));
  const lsm = await openLsmBackend({ job: job(), dir: join(dir, 'db'), restoreFrom: join(dir, 'sp') });
  expect(await lsm.operator('op').value('count').get('a')).toBe(1);
  expect(await lsm.operator('op').list('events').get('a')).toEqual(['x', 'y']);
  await lsm.close();
});

test('misuse: restoring into a directory that holds state, or changing keys in place, fails clearly', async () => {
  const { dir, savepoint, backend } = await seeded(3);
  await expect(openLsmBackend({ job: job(), dir: join(dir, 'db2'), restoreFrom: join(dir, 'missing') })).rejects.toThrow();
  await backend.close();
  await expect(openLsmBackend({ job: job(), dir: join(dir, 'db'), restoreFrom: savepoint })).rejects.toThrow(/already holds state/);
  const rekeyed = job(int32, int32() as never);
  await expect(
    openLsmBackend({ job: defineJob({ name: 'counts', maxParallelism: 32, operators: [operator({ ...rekeyed.operators[0], key: int32(), migrateKey: (k) => Number(String(k).slice(1)), states: [...rekeyed.operators[0].states] })] }), dir: join(dir, 'db') }),
  ).rejects.toThrow(RestoreError);
});
