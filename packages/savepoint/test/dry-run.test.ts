// The deep dry-run reads what a restore reads; offline rewrites refuse what a restore refuses;
// the rollback check asks whether the previous version reads what the new one writes.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConverterError, CorruptSavepointError, defineJob, int32, int64, KeyCollisionError, listState, mapState, operator, string, valueState, type JobDeclaration } from '@stateshift/core';
import { bootstrapSavepoint, checkUpgrade, openSavepoint, readState, rewriteSavepoint, type BootstrapEntry } from '../src/index.js';
import { counts, sampleEntries, tempDir, writeSample } from './helpers.js';

/** A version of the shop job: its one operator, carts, as given. */
const shop = (carts: Omit<Parameters<typeof operator>[0], 'uid'>) => defineJob({ name: 'shop', maxParallelism: 16, operators: [operator({ uid: 'carts', ...carts })] });

const v1 = shop({ key: string(), states: [valueState('total', int32()), valueState('note', string()), mapState('items', string(), int32())] });

/** v2 keys carts by the number after the dash: "a-1" and "b-1" both become 1. */
const rekeyed = (merge?: (a: number, b: number) => number) =>
  shop({
    key: int32(),
    migrateKey: (old) => Number(String(old).split('-')[1]),
    states: [valueState('total', int32(), merge ? { mergeOnCollision: merge } : {}), valueState('note', string()), mapState('items', string(), int32())],
  });

/** v2 keys the items map by the length of the old map key: "xy" and "zz" both become 2. */
const itemsByLength = (merge?: (a: number, b: number) => number) =>
  shop({
    key: string(),
    states: [
      valueState('total', int32()),
      valueState('note', string()),
      mapState('items', int32(), int32(), { migrateKey: (old) => String(old).length, ...(merge ? { mergeOnCollision: merge } : {}) }),
    ],
  });

async function savepoint(entries: BootstrapEntry[]): Promise<string> {
  const dir = join(await tempDir(), 'sp');
  await bootstrapSavepoint(dir, v1, entries);
  return dir;
}

const carts = (keys: string[]): BootstrapEntry[] => keys.map((key, i) => ({ operator: 'carts', state: 'total', key, value: i + 1 }));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('key collisions', () => {
  test('two old keys becoming one: safe by the schemas, unsafe after reading, naming both keys', async () => {
    const sp = await openSavepoint(await savepoint(carts(['a-1', 'b-1', 'c-2'])));
    const schema = await checkUpgrade(sp, rekeyed());
    expect(schema).toMatchObject({ ok: true, scope: 'schema' });
    expect(schema.states[0].entries).toBeUndefined();

    const deep = await checkUpgrade(sp, rekeyed(), { deep: true });
    expect(deep.ok).toBe(false);
    expect(deep.scope).toBe('deep');
    expect(deep.error!.name).toBe('KeyCollisionError');
    expect(deep.error!.message).toMatch(/operator "carts" state "total": the old keys "[ab]-1" and "[ab]-1" both become the new key 1/);
    const total = deep.states.find((s) => s.state === 'total')!;
    expect(total.entries).toMatchObject({ read: 3, passed: 2, merged: 0, failed: 1 });
    expect(total.entries!.failures[0]).toMatchObject({ key: expect.stringMatching(/^"[ab]-1"$/), error: { name: 'KeyCollisionError' } });
  });

  test('with mergeOnCollision a collision is merged, not a failure', async () => {
    const sp = await openSavepoint(await savepoint(carts(['a-1', 'b-1', 'c-2'])));
    const deep = await checkUpgrade(sp, rekeyed((a, b) => a + b), { deep: true });
    expect(deep.ok).toBe(true);
    expect(deep.states.find((s) => s.state === 'total')!.entries).toMatchObject({ read: 3, passed: 2, merged: 1, failed: 0, failures: [] });
  });

  test('map keys that collide under one key are named as map keys', async () => {
    const job = itemsByLength();
    const sp = await openSavepoint(
      await savepoint([
        { operator: 'carts', state: 'items', key: 'a-1', mapKey: 'xy', value: 1 },
        { operator: 'carts', state: 'items', key: 'a-1', mapKey: 'zz', value: 2 },
        { operator: 'carts', state: 'items', key: 'b-1', mapKey: 'zz', value: 3 },
      ]),
    );
    const deep = await checkUpgrade(sp, job, { deep: true });
    expect(deep.ok).toBe(false);
    expect(deep.error!.message).toMatch(/state "items": the old map keys "(xy|zz)" and "(xy|zz)" both become the new map key 2/);
    expect(deep.states.find((s) => s.state === 'items')!.entries).toMatchObject({ read: 3, passed: 2, failed: 1, failures: [{ key: '"a-1"', mapKey: expect.any(String) }] });
  });

  test('a merge that throws or returns what the serializer cannot write fails the deep check, naming the new key', async () => {
    const sp = await openSavepoint(await savepoint(carts(['a-1', 'b-1', 'c-2'])));
    const thrown = await checkUpgrade(sp, rekeyed(() => { throw new Error('no merging'); }), { deep: true });
    expect(thrown.ok).toBe(false);
    expect(thrown.error!.message).toMatch(/state "total" key 1: mergeOnCollision threw: no merging/);
    expect(thrown.states.find((s) => s.state === 'total')!.entries).toMatchObject({ read: 3, passed: 1, merged: 0, failed: 2, failures: [{ key: '1' }] });
    const invalid = await checkUpgrade(sp, rekeyed(() => Number.NaN), { deep: true });
    expect(invalid.error).toMatchObject({ name: 'ConverterError', message: expect.stringMatching(/key 1: mergeOnCollision returned a value the state's serializer cannot write/) });
  });

  test('an offline rewrite refuses a collision naming both keys, and merges with mergeOnCollision', async () => {
    const src = await savepoint(carts(['a-1', 'b-1', 'c-2']));
    const refused = rewriteSavepoint(src, join(await tempDir(), 'out'), { job: rekeyed() });
    await expect(refused).rejects.toThrow(KeyCollisionError);
    await expect(refused).rejects.toThrow(/state "total": the old keys "[ab]-1" and "[ab]-1" both become the new key 1/);
    const merged = join(await tempDir(), 'merged');
    await rewriteSavepoint(src, merged, { job: rekeyed((a, b) => a + b) });
    const rows = await collect(readState(await openSavepoint(merged), 'carts', 'total'));
    expect(new Map(rows.map((r) => [r.key, r.value]))).toEqual(new Map([[1, 3], [2, 3]]));
    await expect(rewriteSavepoint(src, join(await tempDir(), 'x'), { job: rekeyed(() => Number.NaN) })).rejects.toThrow(/key 1: mergeOnCollision returned a value/);
  });

  test('a rewrite finds collisions in bounded memory: among records spilled to disk, without false ones', async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `u${i}-${i}`);
    const tiny = { job: rekeyed(), sortBufferBytes: 4096 };
    const clean = join(await tempDir(), 'clean');
    await rewriteSavepoint(await savepoint(carts(keys)), clean, tiny);
    expect((await collect(readState(await openSavepoint(clean), 'carts', 'total'))).length).toBe(2000);
    const refused = rewriteSavepoint(await savepoint(carts([...keys, 'z-1500'])), join(await tempDir(), 'x'), tiny);
    await expect(refused).rejects.toThrow(KeyCollisionError);
    await expect(refused).rejects.toThrow(/the old keys ("u1500-1500" and "z-1500"|"z-1500" and "u1500-1500") both become the new key 1500/);
    // The deep check takes the same budget.
    const colliding = await openSavepoint(await savepoint(carts([...keys, 'z-1500'])));
    const deep = await checkUpgrade(colliding, rekeyed(), { deep: true, sortBufferBytes: 4096 });
    expect(deep.states.find((s) => s.state === 'total')!.entries).toMatchObject({ read: 2001, passed: 2000, failed: 1 });
    await expect(checkUpgrade(colliding, rekeyed(), { deep: true, sortBufferBytes: 0 })).rejects.toThrow(/sortBufferBytes must be a whole number of bytes above 0, got 0/);
    await expect(rewriteSavepoint(colliding.dir, join(await tempDir(), 'y'), { job: rekeyed(), sortBufferBytes: 1.5 })).rejects.toThrow(TypeError);
    // Refused before anything is read or written: a schema-only check, an output that is taken.
    await expect(checkUpgrade(colliding, rekeyed(), { sortBufferBytes: 0 })).rejects.toThrow(/sortBufferBytes must be a whole number/);
    await expect(rewriteSavepoint(colliding.dir, colliding.dir, { job: rekeyed(), sortBufferBytes: -1 })).rejects.toThrow(/sortBufferBytes must be a whole number/);
  });

  test('map keys merged by a rewrite, list state merged by the deep check and a rewrite', async () => {
    const job = itemsByLength((a, b) => a + b);
    const src = await savepoint([
      { operator: 'carts', state: 'items', key: 'a-1', mapKey: 'xy', value: 1 },
      { operator: 'carts', state: 'items', key: 'a-1', mapKey: 'zz', value: 2 },
      { operator: 'carts', state: 'items', key: 'a-1', mapKey: 'w', value: 4 },
    ]);
    expect((await checkUpgrade(await openSavepoint(src), job, { deep: true })).states.find((s) => s.state === 'items')!.entries).toMatchObject({ read: 3, passed: 2, merged: 1 });
    const out = join(await tempDir(), 'out');
    await rewriteSavepoint(src, out, { job });
    const rows = await collect(readState(await openSavepoint(out), 'carts', 'items'));
    expect(new Map(rows.map((r) => [r.mapKey, r.value]))).toEqual(new Map([[2, 3], [1, 4]]));

    const listV1 = defineJob({ name: 'lists', maxParallelism: 16, operators: [operator({ uid: 'carts', key: string(), states: [listState('events', string())] })] });
    const listV2 = defineJob({
      name: 'lists',
      maxParallelism: 16,
      operators: [
        operator({
          uid: 'carts',
          key: int32(),
          migrateKey: (old) => Number(String(old).split('-')[1]),
          states: [listState('events', string(), { mergeOnCollision: (a, b) => [...a, ...b].sort() })],
        }),
      ],
    });
    const lists = join(await tempDir(), 'lists');
    await bootstrapSavepoint(lists, listV1, [
      { operator: 'carts', state: 'events', key: 'a-1', value: 'a1' },
      { operator: 'carts', state: 'events', key: 'b-1', value: 'b1' },
      { operator: 'carts', state: 'events', key: 'b-1', value: 'b2' },
      { operator: 'carts', state: 'events', key: 'c-2', value: 'c1' },
    ]);
    const deep = await checkUpgrade(await openSavepoint(lists), listV2, { deep: true });
    expect(deep.ok).toBe(true);
    expect(deep.states[0].entries!.read).toBe(4);
    expect(deep.states[0].entries!.merged).toBeGreaterThan(0);
    // Without a merge the collision fails: the elements of the second old key (by its bytes), listed once.
    const unmerged = defineJob({
      name: 'lists',
      maxParallelism: 16,
      operators: [operator({ uid: 'carts', key: int32(), migrateKey: (old) => Number(String(old).split('-')[1]), states: [listState('events', string())] })],
    });
    const refused = (await checkUpgrade(await openSavepoint(lists), unmerged, { deep: true })).states[0].entries!;
    expect(refused.failed).toBe(2);
    expect(refused.failures).toHaveLength(1);
    const listOut = join(await tempDir(), 'lists-out');
    await rewriteSavepoint(lists, listOut, { job: listV2 });
    const elements = await collect(readState(await openSavepoint(listOut), 'carts', 'events'));
    expect(elements.filter((e) => e.key === 1).map((e) => e.value)).toEqual(['a1', 'b1', 'b2']);
    expect(elements.filter((e) => e.key === 2).map((e) => e.value)).toEqual(['c1']);
  });

  test('without a collision a re-keyed rewrite goes through', async () => {
    const out = join(await tempDir(), 'ok');
    await rewriteSavepoint(await savepoint(carts(['a-1', 'c-2'])), out, { job: rekeyed() });
    const rows = await collect(readState(await openSavepoint(out), 'carts', 'total'));
    expect(new Map(rows.map((r) => [r.key, r.value]))).toEqual(new Map([[1, 1], [2, 2]]));
  });
});

/** v2 turns the note into a number with a converter; "lots" becomes NaN, which int32 cannot write. */
const numbered: JobDeclaration = shop({ key: string(), states: [valueState('total', int32()), valueState('note', int32(), { migrate: (old) => Number(old) }), mapState('items', string(), int32())] });

const notes = (n: number, bad: number[]): BootstrapEntry[] =>
  Array.from({ length: n }, (_, i) => ({ operator: 'carts', state: 'note', key: `cart-${i}`, value: bad.includes(i) ? 'lots' : String(i) }));

describe('converter output', () => {
  test('a converter returning NaN for one stored value: unsafe after reading, naming the key', async () => {
    const sp = await openSavepoint(await savepoint(notes(20, [7])));
    expect(await checkUpgrade(sp, numbered)).toMatchObject({ ok: true, scope: 'schema' });
    const deep = await checkUpgrade(sp, numbered, { deep: true });
    expect(deep.ok).toBe(false);
    expect(deep.error!.name).toBe('ConverterError');
    expect(deep.error!.message).toMatch(/operator "carts" state "note": the migrate converter returned a value the new value serializer cannot write .*key "cart-7"/);
    expect(deep.states.find((s) => s.state === 'note')!.entries).toMatchObject({ read: 20, passed: 19, failed: 1, failures: [{ key: '"cart-7"', error: { name: 'ConverterError' } }] });
  });

  test('a key converter returning what the new key serializer cannot write names the stored key', async () => {
    const sp = await openSavepoint(await savepoint(carts(['a-1', 'b-x'])));
    const deep = await checkUpgrade(sp, rekeyed(), { deep: true });
    expect(deep.error).toMatchObject({ name: 'ConverterError', message: expect.stringMatching(/migrateKey \(operator\) converter returned a value .*key "b-x"\)$/) });
    expect(deep.states.find((s) => s.state === 'total')!.entries).toMatchObject({ passed: 1, failed: 1, failures: [{ key: '"b-x"' }] });
  });

  test('at most five failures are listed, all are counted', async () => {
    const sp = await openSavepoint(await savepoint(notes(20, [1, 3, 5, 7, 9, 11, 13])));
    const entries = (await checkUpgrade(sp, numbered, { deep: true })).states.find((s) => s.state === 'note')!.entries!;
    expect(entries).toMatchObject({ read: 20, passed: 13, failed: 7 });
    expect(entries.failures).toHaveLength(5);
  });

  test('an offline rewrite fails naming the key', async () => {
    const src = await savepoint(notes(5, [3]));
    const failed = rewriteSavepoint(src, join(await tempDir(), 'out'), { job: numbered });
    await expect(failed).rejects.toThrow(ConverterError);
    await expect(failed).rejects.toThrow(/state "note".*key "cart-3"/);
  });

  test('with keyGroupRange only the key groups of the instance are read', async () => {
    const sp = await openSavepoint(await savepoint(notes(20, [])));
    const all = (await checkUpgrade(sp, numbered, { deep: true })).states.find((s) => s.state === 'note')!.entries!.read;
    const half = (await checkUpgrade(sp, numbered, { deep: true, keyGroupRange: { start: 0, end: 7 } })).states.find((s) => s.state === 'note')!.entries!.read;
    const rest = (await checkUpgrade(sp, numbered, { deep: true, keyGroupRange: { start: 8, end: 15 } })).states.find((s) => s.state === 'note')!.entries!.read;
    expect(all).toBe(20);
    expect(half + rest).toBe(20);
    expect(half).toBeGreaterThan(0);
    expect(rest).toBeGreaterThan(0);
  });

  test('a sample stops reading after its entries: a damaged later file is never opened, as --deep opens it', async () => {
    const dir = join(await tempDir(), 'sp');
    // No byDay entries: a sample of it opens no file.
    await writeSample(dir, sampleEntries(50).filter((e) => e.state !== 2));
    const second = (await openSavepoint(dir)).metadata.files[1].name;
    const bytes = await readFile(join(dir, second));
    bytes[bytes.length - 10] ^= 0xff;
    await writeFile(join(dir, second), bytes);
    const sp = await openSavepoint(dir);
    const sampled = await checkUpgrade(sp, counts, { sample: 1 });
    expect(sampled.ok).toBe(true);
    expect(sampled.states.map((s) => s.entries!.read)).toEqual([1, 1, 0]);
    await expect(checkUpgrade(sp, counts, { deep: true })).rejects.toThrow(CorruptSavepointError);
  });

  test('onProgress counts the entries read against the entries to read, deep and sampled', async () => {
    const dir = join(await tempDir(), 'sp');
    await writeSample(dir, sampleEntries(1200));
    const sp = await openSavepoint(dir);
    const stored = sp.metadata.files.reduce((n, f) => n + f.entries, 0);
    for (const [options, total] of [[{ deep: true }, stored], [{ sample: 1100 }, 3 * 1100]] as const) {
      const calls: { read: number; total: number }[] = [];
      await checkUpgrade(sp, counts, { ...options, onProgress: (p) => calls.push(p) });
      expect(calls.length).toBeGreaterThan(1);
      expect(calls.every((c) => c.total === total)).toBe(true);
      expect(calls.at(-1)!.read).toBe(total);
      expect(calls.map((c) => c.read)).toEqual([...calls.map((c) => c.read)].sort((a, b) => a - b));
    }
  });

  test('--sample reads the first n entries of each state', async () => {
    const entries = [...notes(20, [19]), ...carts(['a', 'b', 'c'])];
    const sp = await openSavepoint(await savepoint(entries));
    // Bootstrap sorts by key group: find where the bad entry lands in the stored order.
    const order = (await collect(readState(sp, 'carts', 'note'))).map((e) => e.key);
    const at = order.indexOf('cart-19');
    const before = await checkUpgrade(sp, numbered, { sample: at });
    expect(before).toMatchObject({ ok: true, scope: 'sample', sample: at });
    expect(before.states.find((s) => s.state === 'note')!.entries).toMatchObject({ read: at, passed: at });
    expect(before.states.find((s) => s.state === 'total')!.entries).toMatchObject({ read: Math.min(at, 3) });
    const including = await checkUpgrade(sp, numbered, { sample: at + 1 });
    expect(including.ok).toBe(false);
    expect(including.error!.message).toContain('"cart-19"');
    await expect(checkUpgrade(sp, numbered, { sample: 0 })).rejects.toThrow(TypeError);
  });
});

describe('rollback', () => {
  const widened = shop({ key: string(), states: [valueState('total', int64()), valueState('note', string()), mapState('items', string(), int32())] });

  test('a widened state upgrades, but the previous version cannot read it back: not FORWARD, not FULL', async () => {
    const sp = await openSavepoint(await savepoint(carts(['a'])));
    const report = await checkUpgrade(sp, widened, { rollback: true });
    expect(report.ok).toBe(true);
    expect(report.rollback).toMatchObject({ ok: false, previousJob: 'savepoint', error: { name: 'IncompatibleStateError' } });
    const byName = new Map(report.states.map((s) => [s.state, s.rollback]));
    expect(byName.get('total')).toMatchObject({ forward: false, full: false, verdict: 'incompatible' });
    expect(byName.get('total')!.problems.length).toBeGreaterThan(0);
    expect(byName.get('note')).toMatchObject({ forward: true, full: true, verdict: 'compatibleAsIs' });
  });

  test('a state the previous version does not declare is not readable by it, unless allowNonRestoredState', async () => {
    const sp = await openSavepoint(await savepoint(carts(['a'])));
    const added = shop({ key: string(), states: [...v1.operators[0].states, valueState('extra', int32())] });
    const report = await checkUpgrade(sp, added, { rollback: true });
    expect(report.ok).toBe(true);
    expect(report.rollback!.ok).toBe(false);
    expect(report.states.find((s) => s.state === 'extra')!.rollback).toMatchObject({ forward: false, verdict: 'dropped', dropReason: 'undeclared' });
    const allowed = await checkUpgrade(sp, added, { rollback: true, allowNonRestoredState: true });
    expect(allowed.rollback!.ok).toBe(true);
  });

  test('a state the new job drops: the previous version restores without it, and the report says it starts empty', async () => {
    const sp = await openSavepoint(await savepoint(carts(['a'])));
    const dropping = shop({ key: string(), dropStates: ['note'], states: v1.operators[0].states.filter((s) => s.name !== 'note') });
    const report = await checkUpgrade(sp, dropping, { rollback: true });
    expect(report.rollback!.ok).toBe(true);
    expect(report.states.find((s) => s.state === 'note')!.rollback).toMatchObject({ forward: true, full: true, verdict: 'new', problems: [{ message: expect.stringContaining('starts it empty') }] });
  });

  test('the previous declaration, when given, is what reads back (renamed operators followed)', async () => {
    const sp = await openSavepoint(await savepoint(carts(['a'])));
    const renamed = defineJob({ name: 'shop', maxParallelism: 16, operators: [operator({ uid: 'baskets', previousUids: ['carts'], key: string(), states: v1.operators[0].states })] });
    const report = await checkUpgrade(sp, renamed, { previousJob: v1 });
    expect(report.rollback).toEqual({ ok: true, previousJob: 'declaration' });
    expect(report.states.every((s) => s.rollback?.full)).toBe(true);
  });
});
