import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConverterError, CorruptSavepointError, defineJob, int32, int64, JobDefinitionError, KeyCollisionError, listState, mapState, operator, RestoreError, string, valueState } from '@stateshift/core';
import {
  bootstrapSavepoint,
  checkUpgrade,
  decodeMetadata,
  describeSavepoint,
  encodeMetadata,
  keyGroupRangesOf,
  layoutOfJob,
  mergeSavepoints,
  openSavepoint,
  planRestore,
  readState,
  rescaleSavepoint,
  rewriteSavepoint,
  SavepointWriter,
  type SavepointMetadata,
} from '../src/index.js';
import { refuseDuplicates } from '../src/manage/bootstrap.js';
import { counts, countsJob, sampleEntries, tempDir } from './helpers.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Like the LSM backend writes: one file per state over the same key-group range. */
async function filePerState(dir: string, users = 40): Promise<void> {
  const entries = sampleEntries(users);
  const writer = await SavepointWriter.create(dir, layoutOfJob(counts));
  for (const state of [0, 1, 2]) {
    const file = await writer.openDataFile('counter', { start: 0, end: 7 }, `s${state}`);
    for (const e of entries.filter((x) => x.state === state)) await file.append(e);
    await writer.closeDataFile(file);
  }
  await writer.commit();
}

async function contents(dir: string) {
  const sp = await openSavepoint(dir);
  const out: Record<string, unknown[]> = {};
  for (const op of sp.operators) {
    for (const s of op.states) {
      const entries = await collect(readState(sp, op.uid, s.name));
      out[`${op.uid}/${s.name}`] = entries.map((e) => [e.key, e.namespace, e.mapKey, e.value]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    }
  }
  return out;
}

describe('rewrite with several files per key-group range', () => {
  test('migrates every entry once, in full and in key-group ranges', async () => {
    const src = join(await tempDir(), 'src');
    await filePerState(src);
    const widened = countsJob(valueState('count', int64()), int64());
    const full = join(await tempDir(), 'full');
    await rewriteSavepoint(src, full, { job: widened });
    expect(describeSavepoint(await openSavepoint(full)).entries).toBe(160);
    const before = await contents(src);
    const after = await contents(full);
    expect(after['counter/events']).toEqual(before['counter/events']);
    expect(after['counter/count']).toEqual(before['counter/count']);

    const half = join(await tempDir(), 'half');
    await rewriteSavepoint(src, half, { job: widened, keyGroups: { start: 0, end: 3 } });
    const halfSp = await openSavepoint(half);
    const expected = sampleEntries(40).filter((e) => e.keyGroup <= 3).length;
    expect(describeSavepoint(halfSp)).toMatchObject({ entries: expected, partial: true, keyGroupRanges: [{ start: 0, end: 3 }] });
  });
});

describe('a rewrite that fails', () => {
  test('leaves nothing at the output: not the files it finished before the damaged one', async () => {
    const src = join(await tempDir(), 'src');
    await filePerState(src);
    const last = (await openSavepoint(src)).metadata.files.at(-1)!.name;
    const bytes = await readFile(join(src, last));
    bytes[bytes.length - 2] ^= 0xff;
    await writeFile(join(src, last), bytes);
    const out = join(await tempDir(), 'out');
    await expect(rewriteSavepoint(src, out, { job: counts })).rejects.toThrow(CorruptSavepointError);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a converter whose value the new serializer cannot write', () => {
  test('the rewrite fails naming operator, state and the stored key, which it does not decode otherwise', async () => {
    const src = join(await tempDir(), 'src');
    await filePerState(src);
    const overflowing = countsJob(valueState('count', int32(), { migrate: (old) => Number(old as bigint) + 2 ** 40 }));
    const out = join(await tempDir(), 'out');
    const error = await rewriteSavepoint(src, out, { job: overflowing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConverterError);
    expect((error as Error).message).toMatch(/^operator "counter" state "count": the migrate converter returned a value the new value serializer cannot write .*\(key group \d+, key "user-\d+"\)$/);
  });
});

describe('partial savepoints', () => {
  test('restore planning refuses one that lacks key groups the instance serves', async () => {
    const src = join(await tempDir(), 'src');
    await filePerState(src);
    const half = join(await tempDir(), 'half');
    await rewriteSavepoint(src, half, { job: counts, keyGroups: { start: 4, end: 7 } });
    const meta = (await openSavepoint(half)).metadata;
    const refused = planRestore(meta, counts);
    expect(refused.error).toBeInstanceOf(RestoreError);
    expect(refused.error!.message).toMatch(/partial: it holds key groups 4-7 of 0-7.*0-3 would start empty.*mergeSavepoints/);
    expect(planRestore(meta, counts, { keyGroupRange: { start: 4, end: 7 } }).ok).toBe(true);
    expect(planRestore(meta, counts, { allowPartialSavepoint: true }).ok).toBe(true);
    expect((await checkUpgrade(await openSavepoint(half), counts)).keyGroups).toEqual({ savepoint: [{ start: 4, end: 7 }], partial: true, missing: [{ start: 0, end: 3 }] });
  });

  test('merge joins disjoint ranges into what one rewrite writes; overlaps and gaps are refused', async () => {
    const src = join(await tempDir(), 'src');
    await filePerState(src);
    const parts = [];
    for (const range of [{ start: 0, end: 2 }, { start: 3, end: 5 }, { start: 6, end: 7 }]) {
      const dir = join(await tempDir(), `p${range.start}`);
      await rewriteSavepoint(src, dir, { job: counts, keyGroups: range });
      parts.push(dir);
    }
    const merged = join(await tempDir(), 'merged');
    await mergeSavepoints(parts, merged);
    expect(describeSavepoint(await openSavepoint(merged)).partial).toBe(false);
    expect(await contents(merged)).toEqual(await contents(src));
    await expect(mergeSavepoints([parts[0], parts[0]], join(await tempDir(), 'x'))).rejects.toThrow(/both hold key groups 0-2/);
    await expect(mergeSavepoints([parts[0], parts[2]], join(await tempDir(), 'x'))).rejects.toThrow(/3-5 are in none of them/);
    const gappy = await mergeSavepoints([parts[0], parts[2]], join(await tempDir(), 'x'), { allowGaps: true });
    expect(gappy.keyGroupRanges).toEqual([{ start: 0, end: 2 }, { start: 6, end: 7 }]);
  });

  test('merge stopped by its signal fails with the reason and leaves nothing, at any chunk', async () => {
    const src = join(await tempDir(), 'src');
    await filePerState(src, 400);
    const parts = [];
    for (const range of [{ start: 0, end: 3 }, { start: 4, end: 7 }]) {
      const dir = join(await tempDir(), `p${range.start}`);
      await rewriteSavepoint(src, dir, { job: counts, keyGroups: range });
      parts.push(dir);
    }
    for (const after of [0, 1, 3, 5]) {
      const out = join(await tempDir(), `out-${after}`);
      const controller = new AbortController();
      let chunks = 0;
      const reason = new Error('stop');
      // Aborted once `after` checks have passed: the signal is read before each chunk is copied or verified.
      const signal = new Proxy(controller.signal, {
        get(target, property) {
          if (property === 'throwIfAborted') return () => (chunks++ >= after ? (controller.abort(reason), target.throwIfAborted()) : undefined);
          const value = Reflect.get(target, property);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      await expect(mergeSavepoints(parts, out, { signal })).rejects.toBe(reason);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    }
    const whole = join(await tempDir(), 'whole');
    await mergeSavepoints(parts, whole, { signal: new AbortController().signal });
    expect(await contents(whole)).toEqual(await contents(src));
  });

  test('rewrites keep the application position; merge keeps a shared one and refuses differing ones', async () => {
    const src = join(await tempDir(), 'src');
    await filePerState(src);
    const withPosition = join(await tempDir(), 'pos');
    const meta = (await openSavepoint(src)).metadata;
    const writer = await SavepointWriter.create(withPosition, { ...meta, position: new Uint8Array([7, 7]) });
    await writer.commit();
    const a = join(await tempDir(), 'a');
    await rewriteSavepoint(withPosition, a, { job: counts, keyGroups: { start: 0, end: 3 } });
    expect((await openSavepoint(a)).metadata.position).toEqual(new Uint8Array([7, 7]));
    expect(describeSavepoint(await openSavepoint(a)).position).toBe('0707');
    const b = join(await tempDir(), 'b');
    await rewriteSavepoint(src, b, { job: counts, keyGroups: { start: 4, end: 7 } });
    await expect(mergeSavepoints([a, b], join(await tempDir(), 'x'))).rejects.toThrow(/carries application position none and .* 0707/);
    const dropped = await mergeSavepoints([a, b], join(await tempDir(), 'y'), { position: null });
    expect(dropped.position).toBeUndefined();
    const given = await mergeSavepoints([a, b], join(await tempDir(), 'z'), { position: new Uint8Array([1]) });
    expect(given.position).toEqual(new Uint8Array([1]));
  });

  test('metadata without recorded ranges decodes as every key group; ranges round-trip', () => {
    const meta: SavepointMetadata = { ...layoutOfJob(counts), createdAt: 1, files: [] };
    expect(keyGroupRangesOf(decodeMetadata(encodeMetadata(meta)))).toEqual([{ start: 0, end: 7 }]);
    const partial = decodeMetadata(encodeMetadata({ ...meta, keyGroupRanges: [{ start: 5, end: 7 }, { start: 0, end: 1 }, { start: 2, end: 2 }] }));
    expect(partial.keyGroupRanges).toEqual([{ start: 0, end: 2 }, { start: 5, end: 7 }]);
  });
});

describe('declared renames and drops', () => {
  const v1 = defineJob({
    name: 'counts',
    maxParallelism: 8,
    operators: [
      operator({ uid: 'counter', key: string(), states: [valueState('count', int64()), listState('events', string()), mapState('byDay', string(), int32())] }),
      operator({ uid: 'audit', key: string(), states: [valueState('seen', int32())] }),
    ],
  });
  const v2 = defineJob({
    name: 'counts',
    maxParallelism: 8,
    dropOperators: ['audit'],
    operators: [operator({ uid: 'counter-v2', previousUids: ['counter'], dropStates: ['byDay'], key: string(), states: [valueState('count', int64()), listState('events', string())] })],
  });
  const meta = (): SavepointMetadata => ({ ...layoutOfJob(v1), createdAt: 0, files: [] });

  test('previousUids, dropStates and dropOperators restore without allowNonRestoredState', () => {
    const plan = planRestore(meta(), v2);
    expect(plan.error).toBeUndefined();
    const renamed = plan.operators.find((o) => o.uid === 'counter-v2')!;
    expect(renamed).toMatchObject({ status: 'matched', previousUid: 'counter' });
    expect(renamed.states.find((s) => s.state === 'byDay')).toMatchObject({ status: 'dropped', dropReason: 'declared' });
    expect(plan.operators.find((o) => o.uid === 'audit')).toMatchObject({ status: 'onlyInSavepoint', dropReason: 'declared' });
  });

  test('a stored operator under both its uid and a previous uid is refused, naming both', () => {
    const both = defineJob({ name: 'counts', maxParallelism: 8, operators: [operator({ uid: 'audit', previousUids: ['counter'], key: string(), states: [] })] });
    const plan = planRestore(meta(), both, { allowNonRestoredState: true });
    expect(plan.error).toBeInstanceOf(RestoreError);
    expect(plan.error!.message).toMatch(/operator "audit" under 2 uids \("counter", "audit"\)/);
  });

  test('an undeclared missing operator says how to declare a rename', () => {
    const plan = planRestore(meta(), defineJob({ name: 'counts', maxParallelism: 8, operators: [v1.operators[0]] }));
    expect(plan.error!.message).toMatch(/operator "audit".*previousUids: \['old-uid'\].*dropOperators/);
  });

  test('another job name is refused unless allowed', () => {
    const other = defineJob({ name: 'other', maxParallelism: 8, operators: [...v1.operators] });
    expect(planRestore(meta(), other).error!.message).toMatch(/savepoint is of job "counts" but the job is "other".*allowJobNameChange/);
    expect(planRestore(meta(), other, { allowJobNameChange: true }).ok).toBe(true);
  });

  test('declarations are validated', () => {
    const op = (uid: string, previousUids?: string[]) => operator({ uid, key: string(), states: [], previousUids });
    expect(() => op('a', ['a'])).toThrow(JobDefinitionError);
    expect(() => operator({ uid: 'a', key: string(), states: [valueState('x', int32())], dropStates: ['x'] })).toThrow(/both declares state "x" and drops it/);
    expect(() => defineJob({ name: 'j', maxParallelism: 8, operators: [op('a', ['b']), op('b')] })).toThrow(/uid of another operator/);
    expect(() => defineJob({ name: 'j', maxParallelism: 8, operators: [op('a', ['c']), op('b', ['c'])] })).toThrow(/both list previous uid "c"/);
    expect(() => defineJob({ name: 'j', maxParallelism: 8, operators: [op('a', ['c'])], dropOperators: ['c'] })).toThrow(/drops operator "c"/);
    expect(() => operator({ uid: 'a', key: string(), states: [], previousUids: 'b' as never })).toThrow(TypeError);
  });

  test('rewrite follows the declarations', async () => {
    const src = join(await tempDir(), 'src');
    await bootstrapSavepoint(src, v1, [
      { operator: 'counter', state: 'count', key: 'k', value: 3n },
      { operator: 'counter', state: 'events', key: 'k', value: 'e' },
      { operator: 'counter', state: 'byDay', key: 'k', mapKey: 'mon', value: 1 },
      { operator: 'audit', state: 'seen', key: 'k', value: 1 },
    ]);
    const out = join(await tempDir(), 'out');
    await rewriteSavepoint(src, out, { job: v2 });
    const sp = await openSavepoint(out);
    expect(sp.operators.map((o) => o.uid)).toEqual(['counter-v2']);
    expect((await collect(readState(sp, 'counter-v2', 'count'))).map((e) => e.value)).toEqual([3n]);
    expect((await checkUpgrade(await openSavepoint(src), v2)).operators.map((o) => [o.uid, o.status])).toEqual([
      ['counter-v2', 'renamed'],
      ['audit', 'dropped'],
    ]);
  });
});

describe('bounded memory', () => {
  const job = defineJob({ name: 'b', maxParallelism: 64, operators: [operator({ uid: 'op', key: int32(), states: [listState('l', int32()), valueState('v', int32())] })] });
  function* data(n: number) {
    for (let i = 0; i < n; i++) {
      yield { operator: 'op', state: 'l', key: i % 500, value: i };
      yield { operator: 'op', state: 'v', key: i, value: i };
    }
  }

  test('bootstrap spilling sorted runs writes what an in-memory sort writes, list order kept', async () => {
    const small = join(await tempDir(), 'small');
    const big = join(await tempDir(), 'big');
    await bootstrapSavepoint(small, job, data(3000), { sortBufferBytes: 10_000 });
    await bootstrapSavepoint(big, job, data(3000));
    const a = await collect(readState(await openSavepoint(small), 'op', 'l'));
    const b = await collect(readState(await openSavepoint(big), 'op', 'l'));
    expect(a).toEqual(b);
    const ofKey7 = a.filter((e) => e.key === 7).map((e) => e.value);
    expect(ofKey7).toEqual([...ofKey7].sort((x, y) => (x as number) - (y as number)));
    expect(ofKey7).toHaveLength(6);
  });

  test('rescaleSavepoint re-keys every entry under the new maxParallelism, spilling runs', async () => {
    const src = join(await tempDir(), 'src');
    await bootstrapSavepoint(src, job, data(2000));
    const out = join(await tempDir(), 'out');
    await rescaleSavepoint(src, out, { maxParallelism: 16, sortBufferBytes: 10_000 });
    const sp = await openSavepoint(out);
    expect(sp.maxParallelism).toBe(16);
    const before = await collect(readState(await openSavepoint(src), 'op', 'l'));
    const after = await collect(readState(sp, 'op', 'l'));
    const byKey = (xs: typeof before) => xs.map((e) => [e.key, e.value]).sort((x, y) => (x[0] as number) - (y[0] as number));
    expect(byKey(after)).toEqual(byKey(before));
    expect(after.every((e) => e.keyGroup < 16)).toBe(true);
  });
});

describe('bootstrap refuses two values for one key', () => {
  const job = defineJob({
    name: 'dups',
    maxParallelism: 16,
    operators: [operator({ uid: 'op', key: string(), states: [valueState('v', int32()), listState('l', int32()), mapState('m', string(), int32())] })],
  });
  const values = (n: number) => Array.from({ length: n }, (_, i) => ({ operator: 'op', state: 'v', key: `k${i}`, value: i }));

  test.each([
    ['in memory', undefined],
    ['across spilled runs', 2_000],
  ])('a value state given one key twice (%s): KeyCollisionError naming it, nothing written', async (_, sortBufferBytes) => {
    const dir = join(await tempDir(), 'sp');
    const data = [...values(3000), { operator: 'op', state: 'v', key: 'k1234', value: -1 }];
    const error = await bootstrapSavepoint(dir, job, data, { sortBufferBytes }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyCollisionError);
    expect(error).toMatchObject({ code: 'STATESHIFT_KEY_COLLISION', operator: 'op', state: 'v' });
    expect((error as Error).message).toContain('value state "v" has two values for key "k1234"');
    expect(existsSync(join(dir, '_metadata'))).toBe(false);
  });

  test('a map state given one map key twice is refused; other map keys of the key are kept', async () => {
    const entry = (mapKey: string, value: number) => ({ operator: 'op', state: 'm', key: 'u', mapKey, value });
    const ok = join(await tempDir(), 'ok');
    await bootstrapSavepoint(ok, job, [entry('a', 1), entry('b', 2), entry('c', 3)]);
    expect((await collect(readState(await openSavepoint(ok), 'op', 'm'))).map((e) => [e.mapKey, e.value]).sort()).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    const error = await bootstrapSavepoint(join(await tempDir(), 'bad'), job, [entry('a', 1), entry('b', 2), entry('a', 3)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyCollisionError);
    expect((error as Error).message).toContain('key "u", map key "a"');
  });

  test('list elements of one key are not duplicates, and keep their order among other keys', async () => {
    const dir = join(await tempDir(), 'sp');
    const data = Array.from({ length: 5000 }, (_, i) => ({ operator: 'op', state: 'l', key: `k${i % 7}`, value: i }));
    await bootstrapSavepoint(dir, job, [...data, ...values(3000)], { sortBufferBytes: 5_000 });
    const read = await collect(readState(await openSavepoint(dir), 'op', 'l'));
    expect(read.filter((e) => e.key === 'k3').map((e) => e.value)).toEqual(data.filter((e) => e.key === 'k3').map((e) => e.value));
    expect(read).toHaveLength(5000);
  });

  test('the same key in two states, or two keys, is no duplicate', async () => {
    const dir = join(await tempDir(), 'sp');
    await bootstrapSavepoint(dir, job, [
      { operator: 'op', state: 'v', key: 'a', value: 1 },
      { operator: 'op', state: 'm', key: 'a', mapKey: 'a', value: 2 },
      { operator: 'op', state: 'v', key: 'b', value: 3 },
    ]);
    expect((await collect(readState(await openSavepoint(dir), 'op', 'v'))).map((e) => [e.key, e.value]).sort()).toEqual([
      ['a', 1],
      ['b', 3],
    ]);
  });
});

test('bootstrap is refused exactly when a value-state key repeats, wherever the repeat falls (blocks, runs)', async () => {
  const job = defineJob({ name: 'p', maxParallelism: 4, operators: [operator({ uid: 'op', key: int32(), states: [valueState('v', int32())] })] });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 60_000 }), { minLength: 1, maxLength: 9_000 }), fc.constantFrom(undefined, 3_000, 40_000), async (keys, sortBufferBytes) => {
      const dir = join(await tempDir(), 'sp');
      const refused = await bootstrapSavepoint(dir, job, keys.map((key, i) => ({ operator: 'op', state: 'v', key, value: i })), { sortBufferBytes }).then(
        () => false,
        (e: unknown) => (e instanceof KeyCollisionError ? true : Promise.reject(e)),
      );
      expect(refused).toBe(new Set(keys).size < keys.length);
    }),
    { numRuns: 25 },
  );
});

test('refuseDuplicates finds a repeat across a block boundary, after the first block was reused', async () => {
  const job = defineJob({ name: 'p', maxParallelism: 4, operators: [operator({ uid: 'op', key: string(), states: [valueState('v', int32()), listState('l', int32())] })] });
  const key = new Uint8Array([1, 0x61]); // "a"
  const entry = (state: number, k: Uint8Array) => ({ state, keyGroup: 0, key: k, namespace: new Uint8Array(0), mapKey: new Uint8Array(0), version: 1, value: new Uint8Array([0]) });
  const run = async (blocks: ReturnType<typeof entry>[][]) => {
    const seen: number[] = [];
    for await (const block of refuseDuplicates(job.operators[0], (async function* () {
      for (const b of blocks) {
        yield b;
        b[b.length - 1].key.fill(9); // the producer reuses its buffer once the block is taken
      }
    })())) seen.push(block.length);
    return seen;
  };
  await expect(run([[entry(0, new Uint8Array([1, 0x62])), entry(0, key.slice())], [entry(0, key.slice())]])).rejects.toThrow(/value state "v" has two values for key "a"/);
  expect(await run([[entry(1, key.slice())], [entry(1, key.slice())]])).toEqual([1, 1]);
});
