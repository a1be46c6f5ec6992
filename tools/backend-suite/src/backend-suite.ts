import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defineJob,
  int32,
  int64,
  keyGroupOf,
  keyGroupRangeForOperator,
  listState,
  mapState,
  operator,
  snapshotToBytes,
  string,
  valueState,
  DataOutput,
  type JobDeclaration,
} from '@stateshift/core';
import { avro } from '@stateshift/avro';
import { pojo } from '@stateshift/pojo';
import { openSavepoint } from '@stateshift/savepoint';
import { workspace, type BackendUnderTest } from './harness.js';

const counts = (options: { ttlMs?: number } = {}) =>
  defineJob({
    name: 'counts',
    maxParallelism: 16,
    operators: [
      operator({
        uid: 'counter',
        key: string(),
        states: [
          valueState('count', int64(), options.ttlMs ? { ttl: { ttlMs: options.ttlMs } } : {}),
          listState('events', string(), options.ttlMs ? { ttl: { ttlMs: options.ttlMs } } : {}),
          mapState('byDay', string(), int32(), options.ttlMs ? { ttl: { ttlMs: options.ttlMs } } : {}),
        ],
      }),
      operator({ uid: 'windows', key: string(), namespace: int64(), states: [valueState('sum', int64())] }),
    ],
  });

function keyGroupOfString(key: string, maxParallelism: number): number {
  const out = new DataOutput();
  string().serialize(key, out);
  return keyGroupOf(out.toBytes(), maxParallelism);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** The behaviour every backend shares, independent of upgrades. */
export function backendSuite(b: BackendUnderTest): void {
  describe(`${b.name}: state handles, savepoints, TTL, rescaling`, () => {
    const ws = workspace();

    it('value, list and map state per key; missing keys read as undefined or []', async () => {
      const backend = await ws.open(b, { job: counts() });
      const op = backend.operator<string>('counter');
      expect(await op.value('count').get('nobody')).toBeUndefined();
      expect(await op.list('events').get('nobody')).toEqual([]);
      expect(await op.map('byDay').get('nobody', 'mon')).toBeUndefined();
      await op.value<bigint>('count').set('a', 1n);
      expect(await op.value<bigint>('count').update('a', (c) => (c ?? 0n) + 1n)).toBe(2n);
      await op.list<string>('events').add('a', 'x');
      await op.list<string>('events').addAll('a', ['y', 'z']);
      expect(await op.list('events').get('a')).toEqual(['x', 'y', 'z']);
      await op.list<string>('events').update('a', ['only']);
      expect(await op.list('events').get('a')).toEqual(['only']);
      await op.map<string, number>('byDay').put('a', 'mon', 1);
      await op.map<string, number>('byDay').putAll('a', [['tue', 2], ['wed', 3]]);
      await op.map<string, number>('byDay').remove('a', 'wed');
      expect(await op.map('byDay').contains('a', 'tue')).toBe(true);
      expect(await op.map('byDay').contains('a', 'wed')).toBe(false);
      expect(new Map(await collect(op.map<string, number>('byDay').entries('a')))).toEqual(new Map([['mon', 1], ['tue', 2]]));
      await op.value('count').clear('a');
      await op.list('events').clear('a');
      expect(await op.value('count').get('a')).toBeUndefined();
      expect(await op.list('events').get('a')).toEqual([]);
      expect((await collect(op.keys('count'))).length).toBe(0);
      expect((await collect(op.keys('byDay'))).map((k) => k.key)).toEqual(['a']);
    });

    it('namespaces keep separate values per key', async () => {
      const backend = await ws.open(b, { job: counts() });
      const op = backend.operator<string, bigint>('windows');
      await op.value<bigint>('sum').set('a', 1n, 10n);
      await op.value<bigint>('sum').set('a', 2n, 20n);
      expect(await op.value('sum').get('a', 10n)).toBe(1n);
      expect(await op.value('sum').get('a', 20n)).toBe(2n);
      expect((await collect(op.keys('sum'))).map((k) => k.namespace).sort()).toEqual([10n, 20n]);
    });

    it('misuse fails clearly: unknown operator or state, wrong state type, invalid values', async () => {
      const backend = await ws.open(b, { job: counts() });
      expect(() => backend.operator('nope')).toThrow(/no operator "nope"/);
      expect(() => backend.operator('counter').value('nope')).toThrow(/no state "nope"/);
      expect(() => backend.operator('counter').list('count')).toThrow(/value state/);
      await expect(backend.operator('counter').value('count').set('a', 1 as never)).rejects.toThrow(/bigint/);
    });

    it('a savepoint restores every state of every operator', async () => {
      const backend = await ws.open(b, { job: counts() });
      const op = backend.operator<string>('counter');
      for (let i = 0; i < 200; i++) {
        await op.value<bigint>('count').set(`user-${i}`, BigInt(i));
        await op.list<string>('events').addAll(`user-${i}`, [`a${i}`, `b${i}`]);
        await op.map<string, number>('byDay').put(`user-${i}`, 'mon', i);
        await backend.operator<string, bigint>('windows').value<bigint>('sum').set(`user-${i}`, BigInt(i * 2), 5n);
      }
      const dir = join(await ws.dir(), 'sp');
      const metadata = await backend.savepoint(dir);
      expect(metadata.files.reduce((n, f) => n + f.entries, 0)).toBe(200 * 5);
      const restored = await ws.open(b, { job: counts(), restoreFrom: dir });
      const r = restored.operator<string>('counter');
      for (const i of [0, 77, 199]) {
        expect(await r.value('count').get(`user-${i}`)).toBe(BigInt(i));
        expect(await r.list('events').get(`user-${i}`)).toEqual([`a${i}`, `b${i}`]);
        expect(await r.map('byDay').get(`user-${i}`, 'mon')).toBe(i);
        expect(await restored.operator<string, bigint>('windows').value('sum').get(`user-${i}`, 5n)).toBe(BigInt(i * 2));
      }
      expect((await collect(r.keys('count'))).length).toBe(200);
    });

    it('a savepoint taken while writes go on holds a consistent cut', async () => {
      const backend = await ws.open(b, { job: counts() });
      const count = backend.operator<string>('counter').value<bigint>('count');
      for (let i = 0; i < 50; i++) await count.set(`k${i}`, 1n);
      const dir = join(await ws.dir(), 'sp');
      const taking = backend.savepoint(dir);
      const writes = Array.from({ length: 50 }, (_, i) => count.set(`k${i}`, 2n));
      await Promise.all([taking, ...writes]);
      expect(await count.get('k0')).toBe(2n);
      const restored = await ws.open(b, { job: counts(), restoreFrom: dir });
      const values = await Promise.all(Array.from({ length: 50 }, (_, i) => restored.operator('counter').value('count').get(`k${i}`)));
      // Every key is in the cut with the same version: all 1 (taken before the writes).
      expect(new Set(values)).toEqual(new Set([1n]));
    });

    it('TTL: expired values are invisible and not saved; TTL can be turned on and off', async () => {
      let now = 1_000_000;
      const backend = await ws.open(b, { job: counts({ ttlMs: 1000 }), now: () => now });
      const op = backend.operator<string>('counter');
      await op.value<bigint>('count').set('old', 1n);
      await op.list<string>('events').add('old', 'e-old');
      await op.map<string, number>('byDay').put('old', 'mon', 1);
      now += 600;
      await op.value<bigint>('count').set('new', 2n);
      await op.list<string>('events').add('old', 'e-new');
      now += 600;
      expect(await op.value('count').get('old')).toBeUndefined();
      expect(await op.value('count').get('new')).toBe(2n);
      expect(await op.list('events').get('old')).toEqual(['e-new']);
      expect(await op.map('byDay').get('old', 'mon')).toBeUndefined();
      const dir = join(await ws.dir(), 'sp');
      await backend.savepoint(dir);
      const totals = (await openSavepoint(dir)).stateTotals('counter', 'count');
      expect(totals.entries).toBe(1);
      // TTL turned off: the values restore without timestamps.
      const off = await ws.open(b, { job: counts(), restoreFrom: dir, now: () => now });
      expect(await off.operator('counter').value('count').get('new')).toBe(2n);
      expect(await off.operator('counter').list('events').get('old')).toEqual(['e-new']);
      // TTL turned on again: the values get the time of migration and live on.
      const dir2 = join(await ws.dir(), 'sp2');
      await off.savepoint(dir2);
      const on = await ws.open(b, { job: counts({ ttlMs: 1000 }), restoreFrom: dir2, now: () => now });
      expect(await on.operator('counter').value('count').get('new')).toBe(2n);
    });

    it('rescaling: two instances of parallelism 2 together see every key exactly once', async () => {
      const job = counts();
      const backend = await ws.open(b, { job });
      const users = Array.from({ length: 100 }, (_, i) => `user-${i}`);
      for (const u of users) await backend.operator<string>('counter').value<bigint>('count').set(u, 1n);
      const dir = join(await ws.dir(), 'sp');
      await backend.savepoint(dir);
      const seen: string[] = [];
      for (const index of [0, 1]) {
        const part = await ws.open(b, { job, restoreFrom: dir, parallelism: 2, index });
        const range = keyGroupRangeForOperator(index, 2, job.maxParallelism);
        expect(part.keyGroupRange).toEqual(range);
        const keys = (await collect(part.operator<string>('counter').keys('count'))).map((k) => k.key);
        for (const k of keys) expect(keyGroupOfString(k, job.maxParallelism)).toBeGreaterThanOrEqual(range.start);
        seen.push(...keys);
        const outside = users.find((u) => keyGroupOfString(u, job.maxParallelism) > range.end || keyGroupOfString(u, job.maxParallelism) < range.start)!;
        await expect(part.operator('counter').value('count').get(outside)).rejects.toThrow(/key group/);
      }
      expect(seen.sort()).toEqual([...users].sort());
    });

    it('states of different formats restore together', async () => {
      const job: JobDeclaration = defineJob({
        name: 'mixed',
        maxParallelism: 16,
        operators: [
          operator({
            uid: 'mixed',
            key: pojo('UserKey', { tenant: string(), id: int32() }),
            states: [
              valueState('builtin', int64()),
              valueState('pojo', pojo('P', { a: string() })),
              valueState('avro', avro({ type: 'record', name: 'A', fields: [{ name: 'n', type: 'long' }] })),
              mapState('map', int32(), pojo('V', { v: int64() })),
            ],
          }),
        ],
      });
      const backend = await ws.open(b, { job });
      const op = backend.operator<{ tenant: string; id: number }>('mixed');
      const key = { tenant: 't', id: 1 };
      await op.value('builtin').set(key, 5n);
      await op.value('pojo').set(key, { a: 'x' });
      await op.map('map').put(key, 3, { v: 9n });
      await op.value('avro').set(key, { n: 4n });
      const dir = join(await ws.dir(), 'sp');
      await backend.savepoint(dir);
      const restored = (await ws.open(b, { job, restoreFrom: dir })).operator('mixed');
      expect(await restored.value('builtin').get({ tenant: 't', id: 1 })).toBe(5n);
      expect(await restored.value('pojo').get({ tenant: 't', id: 1 })).toEqual({ a: 'x' });
      expect(await restored.map('map').get({ tenant: 't', id: 1 }, 3)).toEqual({ v: 9n });
      expect({ ...((await restored.value('avro').get({ tenant: 't', id: 1 })) as object) }).toEqual({ n: 4n });
      expect(snapshotToBytes(job.operators[0].keySerializer.snapshot()).length).toBeGreaterThan(0);
    });
  });
}
