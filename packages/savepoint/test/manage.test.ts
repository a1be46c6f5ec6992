import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineJob, int32, int64, listState, mapState, operator, string, valueState } from '@stateshift/core';
import { bootstrapSavepoint, checkUpgrade, describeSavepoint, openSavepoint, readState, rewriteSavepoint } from '../src/index.js';
import { tempDir } from './helpers.js';

const job = (count = int32() as never, maxParallelism = 16, extra: ReturnType<typeof operator>[] = []) =>
  defineJob({
    name: 'orders',
    maxParallelism,
    operators: [
      operator({ uid: 'orders', key: string(), states: [valueState('count', count), listState('ids', string()), mapState('byDay', string(), int32())] }),
      operator({ uid: 'audit', key: string(), states: [valueState('seen', int32())] }),
      ...extra,
    ],
  });

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function bootstrapped() {
  const dir = join(await tempDir(), 'sp');
  const users = ['joha', 'nina', 'gru', 'andi'];
  await bootstrapSavepoint(
    dir,
    job(),
    (async function* () {
      for (const [i, user] of users.entries()) {
        yield { operator: 'orders', state: 'count', key: user, value: i + 1 };
        yield { operator: 'orders', state: 'ids', key: user, value: `o-${i}` };
        yield { operator: 'orders', state: 'byDay', key: user, mapKey: 'mon', value: i };
        yield { operator: 'audit', state: 'seen', key: user, value: 1 };
      }
    })(),
  );
  return dir;
}

test('bootstrap, then describe and read states back with the stored snapshots', async () => {
  const sp = await openSavepoint(await bootstrapped());
  const summary = describeSavepoint(sp);
  expect(summary.entries).toBe(16);
  expect(summary.operators.map((o) => o.uid)).toEqual(['orders', 'audit']);
  expect(summary.operators[0].states[0]).toMatchObject({ name: 'count', type: 'value', entries: 4, versions: [{ id: 1, kind: 'core.int32', schema: { type: 'int32' } }] });
  const counts = await collect(readState(sp, 'orders', 'count'));
  expect(new Map(counts.map((e) => [e.key, e.value]))).toEqual(new Map([['joha', 1], ['nina', 2], ['gru', 3], ['andi', 4]]));
  expect(await collect(readState(sp, 'orders', 'byDay', { limit: 2 }))).toHaveLength(2);
  expect((await collect(readState(sp, 'orders', 'byDay')))[0]).toHaveProperty('mapKey', 'mon');
  // Read through a new declaration: migrated on the fly.
  const widened = await collect(readState(sp, 'orders', 'count', { job: job(int64() as never) }));
  expect(widened.every((e) => typeof e.value === 'bigint')).toBe(true);
  await expect(collect(readState(sp, 'nope', 'count'))).rejects.toThrow(/no operator "nope"/);
  await expect(collect(readState(sp, 'orders', 'nope'))).rejects.toThrow(/no state "nope"/);
});

test('checkUpgrade reports per operator and state, with what must migrate', async () => {
  const sp = await openSavepoint(await bootstrapped());
  const widened = await checkUpgrade(sp, job(int64() as never));
  expect(widened.ok).toBe(true);
  expect(widened.states.find((s) => s.state === 'count')).toMatchObject({ verdict: 'compatibleAfterMigration', entriesToMigrate: 4 });
  expect(widened.states.find((s) => s.state === 'ids')).toMatchObject({ verdict: 'compatibleAsIs', entriesToMigrate: 0 });
  const refused = await checkUpgrade(sp, job(string() as never));
  expect(refused.ok).toBe(false);
  expect(refused.error?.name).toBe('IncompatibleStateError');
  // A value that would migrate under a key that cannot: the state is not restored, so nothing of it migrates.
  const rekeyedWithout = defineJob({
    name: 'orders',
    maxParallelism: 16,
    operators: [operator({ uid: 'orders', key: int64(), states: [valueState('count', int64()), listState('ids', string()), mapState('byDay', string(), int32())] }), job().operators[1]],
  });
  const unsafe = await checkUpgrade(sp, rekeyedWithout);
  expect(unsafe.ok).toBe(false);
  expect(unsafe.states.find((s) => s.state === 'count')).toMatchObject({ verdict: 'incompatible', entriesToMigrate: 0, bytesToMigrate: 0 });
  const dropped = await checkUpgrade(sp, defineJob({ name: 'orders', maxParallelism: 16, operators: [job().operators[0]] }));
  expect(dropped.ok).toBe(false);
  expect(dropped.operators).toContainEqual({ uid: 'audit', status: 'missing', dropReason: 'undeclared', rekey: false });
  expect((await checkUpgrade(sp, defineJob({ name: 'orders', maxParallelism: 16, operators: [job().operators[0]] }), { allowNonRestoredState: true })).ok).toBe(true);
});

test('rewrite: migrate, rename a uid, transform values, drop an operator, add a state, rescale; the source is untouched', async () => {
  const src = await bootstrapped();
  const before = describeSavepoint(await openSavepoint(src));
  const out = join(await tempDir(), 'out');
  const target = defineJob({
    name: 'orders',
    maxParallelism: 32,
    operators: [
      operator({
        uid: 'orders-v2',
        key: string(),
        states: [valueState('count', int64()), listState('ids', string()), mapState('byDay', string(), int32()), valueState('added', string())],
      }),
    ],
  });
  await rewriteSavepoint(src, out, {
    job: target,
    allowNonRestoredState: true,
    renameOperators: { orders: 'orders-v2' },
    transform: { 'orders-v2/count': (v, { key }) => (key === 'gru' ? undefined : (v as bigint) * 10n) },
  });
  expect(describeSavepoint(await openSavepoint(src))).toEqual(before);
  const sp = await openSavepoint(out);
  expect(sp.maxParallelism).toBe(32);
  expect(sp.operators.map((o) => o.uid)).toEqual(['orders-v2']);
  const counts = new Map((await collect(readState(sp, 'orders-v2', 'count'))).map((e) => [e.key, e.value]));
  expect(counts).toEqual(new Map([['joha', 10n], ['nina', 20n], ['andi', 40n]]));
  expect(await collect(readState(sp, 'orders-v2', 'ids'))).toHaveLength(4);
  expect((await checkUpgrade(sp, target)).ok).toBe(true);
  await expect(rewriteSavepoint(src, join(await tempDir(), 'x'), { job: target, renameOperators: { missing: 'x' } })).rejects.toThrow(/no such operator/);
});
