// What only the LSM backend has: the write buffer's undo log, state identity, the directory lock,
// interrupted restores, local layouts, lazy versions and the background pass.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test, vi } from 'vitest';
import { BackendLockedError, CorruptSavepointError, defineJob, int32, int64, listState, mapState, operator, RestoreError, SavepointStorageError, string, valueState } from '@stateshift/core';
import { ClassicLevel } from 'classic-level';
import { FileSystemStorage, openSavepoint } from '@stateshift/savepoint';
import { openLsmBackend, type MigrationProgress } from '../src/index.js';
import { LowerLayer } from '../src/lower-layer.js';
import { expectDamagedReads, tempDir } from './helpers.js';

const v = valueState('v', int64());
const l = listState('l', string());
const m = mapState('m', string(), int32());
const op = operator({ uid: 'op', key: string(), states: [v, l, m] });
const job = defineJob({ name: 'lsm', maxParallelism: 32, operators: [op] });

test('writes flushed from a full buffer after a checkpoint are undone on reopen: the last checkpoint, exactly', async () => {
  const dir = join(await tempDir(), 'db');
  const backend = await openLsmBackend({ job, dir, writeBufferSize: 8 });
  const h = backend.operator(op);
  for (let i = 0; i < 50; i++) {
    h.value(v).set(`k${i}`, BigInt(i));
    h.list(l).add(`k${i}`, `a${i}`);
    h.map(m).put(`k${i}`, 'x', i);
  }
  await backend.checkpoint({ position: new Uint8Array([1]) });
  // After the checkpoint: overwrites, deletes, a map cleared, new keys; the small buffer spills them.
  for (let i = 0; i < 50; i++) {
    h.value(v).set(`k${i}`, -1n);
    h.list(l).add(`k${i}`, 'later');
    if (i % 2) h.map(m).clear(`k${i}`);
    h.value(v).set(`new${i}`, 7n);
  }
  h.value(v).clear('k3');
  // An iteration writes the buffer out too (undoably).
  const keys: unknown[] = [];
  for await (const { key } of h.keys(v)) keys.push(key);
  expect(keys).toContain('new0');
  await backend.close(); // no checkpoint: as if the process had stopped here

  const reopened = await openLsmBackend({ job, dir });
  const r = reopened.operator(op);
  expect([...(reopened.position ?? [])]).toEqual([1]);
  for (let i = 0; i < 50; i++) {
    expect(r.value(v).get(`k${i}`)).toBe(BigInt(i));
    expect(r.list(l).get(`k${i}`)).toEqual([`a${i}`]);
    expect(r.map(m).get(`k${i}`, 'x')).toBe(i);
    expect(r.value(v).get(`new${i}`)).toBeUndefined();
  }
  await reopened.close();
});

test('operators and states whose names contain "/" never share entries', async () => {
  const c = valueState('c', int32());
  const bc = valueState('b/c', int32());
  const ab = operator({ uid: 'a/b', key: string(), states: [c] });
  const a = operator({ uid: 'a', key: string(), states: [bc] });
  const slashes = defineJob({ name: 'slashes', maxParallelism: 8, operators: [ab, a] });
  const dir = join(await tempDir(), 'db');
  const backend = await openLsmBackend({ job: slashes, dir });
  backend.operator(ab).value(c).set('k', 1);
  backend.operator(a).value(bc).set('k', 2);
  expect(backend.operator(ab).value(c).get('k')).toBe(1);
  await backend.checkpoint();
  await backend.close();
  const reopened = await openLsmBackend({ job: slashes, dir });
  expect(reopened.operator(ab).value(c).get('k')).toBe(1);
  expect(reopened.operator(a).value(bc).get('k')).toBe(2);
  await reopened.close();
});

test('a second backend on the same directory fails at once with BackendLockedError', async () => {
  const dir = join(await tempDir(), 'db');
  const first = await openLsmBackend({ job, dir });
  await expect(openLsmBackend({ job, dir })).rejects.toThrow(BackendLockedError);
  await expect(openLsmBackend({ job, dir })).rejects.toThrow(/open in another backend/);
  await first.close();
  (await openLsmBackend({ job, dir })).close();
});

test('a database of the previous local layout is refused, naming the way through a savepoint', async () => {
  const dir = join(await tempDir(), 'db');
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  // Layout 1 kept "layout", "state-ids" and "epoch" under state 0xffff, and no layout version.
  const key = (name: string) => new Uint8Array([0xff, 0xff, 0, 0, ...new TextEncoder().encode(name)]);
  await db.put(key('layout'), new Uint8Array([1, 2, 3]));
  await db.put(key('state-ids'), new TextEncoder().encode('["op/v"]'));
  await db.close();
  const error = await openLsmBackend({ job, dir }).catch((e: Error) => e);
  expect(error).toBeInstanceOf(RestoreError);
  expect((error as Error).message).toMatch(/earlier release.*take a savepoint/);
});

/** A job whose value state `v` widens from int32 to int64 (a migration), and a savepoint of 3 000 keys under `root/sp` by the narrow one. */
const wide = valueState('v', int64());
const wideOp = operator({ uid: 'op', key: string(), states: [wide] });
const v2 = defineJob({ name: 'lsm', maxParallelism: 32, operators: [wideOp] });
async function widenedSavepoint(root: string): Promise<void> {
  const v1 = defineJob({ name: 'lsm', maxParallelism: 32, operators: [operator({ uid: 'op', key: string(), states: [valueState('v', int32())] })] });
  const first = await openLsmBackend({ job: v1, dir: join(root, 'v1') });
  for (let i = 0; i < 3000; i++) first.operator('op').value('v').set(`k${i}`, i);
  await first.savepoint(join(root, 'sp'));
  await first.close();
}

test('lazy mode: entries keep their version until read or rewritten; the background pass retires the old version at the next checkpoint', async () => {
  const root = await tempDir();
  await widenedSavepoint(root);
  const lazy = await openLsmBackend({ job: v2, dir: join(root, 'v2'), restoreFrom: join(root, 'sp'), migration: 'lazy', backgroundMigration: { rate: 0 } });
  expect(lazy.states[0].versions).toHaveLength(2);
  expect(lazy.operator(wideOp).value(wide).get('k5')).toBe(5n);
  await lazy.background!.done;
  await lazy.checkpoint();
  expect(lazy.states[0].versions).toHaveLength(1);
  expect(lazy.operator(wideOp).value(wide).get('k2999')).toBe(2999n);
  await lazy.close();
  const reopened = await openLsmBackend({ job: v2, dir: join(root, 'v2') });
  expect(reopened.meta.layout.operators[0].states[0].versions).toHaveLength(1);
  expect(reopened.operator(wideOp).value(wide).get('k1234')).toBe(1234n);
  await reopened.close();
});

/** Makes the copy pass's reads of key groups fail with `failure()` the first `times` times. */
function failingReads(times: number, failure: () => Error) {
  const read = LowerLayer.prototype.blocks;
  let failed = 0;
  const spy = vi.spyOn(LowerLayer.prototype, 'blocks').mockImplementation(function (this: LowerLayer, ...args: Parameters<LowerLayer['blocks']>) {
    if (failed < times) {
      failed++;
      return Promise.reject(failure());
    }
    return read.apply(this, args);
  });
  return { failed: () => failed, [Symbol.dispose]: () => spy.mockRestore() };
}

test('a background pass reports its progress against the count of entries at older versions', async () => {
  const root = await tempDir();
  await widenedSavepoint(root);
  const seen: MigrationProgress[] = [];
  const lazy = await openLsmBackend({ job: v2, dir: join(root, 'v2'), restoreFrom: join(root, 'sp'), migration: 'lazy', backgroundMigration: { rate: 0 }, onProgress: (p) => seen.push(p) });
  await lazy.background!.done;
  expect(seen.length).toBeGreaterThan(1);
  expect(seen.at(-1)).toMatchObject({ operator: 'op', state: 'v', done: 3000, total: 3000 });
  await lazy.close();
});

test('the copy pass reads a key group again after a storage failure (of a read, or of opening the file), and copies every entry', async () => {
  const blip = () => new SavepointStorageError('io', 'cannot read: ECONNRESET', 'a store');
  const open = FileSystemStorage.prototype.open;
  let openFailed = 0;
  for (const where of ['read', 'open']) {
    const root = await tempDir();
    await widenedSavepoint(root);
    using reads = failingReads(where === 'read' ? 2 : 0, blip);
    using _opens = vi.spyOn(FileSystemStorage.prototype, 'open').mockImplementation(function (this: FileSystemStorage, name: string) {
      // The copy pass's first open of a data file fails (the savepoint's own opens do not).
      return where === 'open' && name.endsWith('.dat') && openFailed++ === 0 ? Promise.reject(blip()) : open.call(this, name);
    });
    const backend = await openLsmBackend({ job: v2, dir: join(root, 'v2'), restoreFrom: join(root, 'sp'), restore: 'in-place' });
    await backend.copying!.done;
    expect(where === 'read' ? reads.failed() : openFailed).toBeGreaterThan(1);
    await backend.checkpoint();
    expect(backend.lower).toBeUndefined();
    for (let i = 0; i < 3000; i += 37) expect(backend.operator(wideOp).value(wide).get(`k${i}`)).toBe(BigInt(i));
    await backend.close();
  }
}, 20_000);

test('once the copy pass has copied a key group, point reads no longer read it from the savepoint, and its group is let go', async () => {
  const root = await tempDir();
  await widenedSavepoint(root);
  const backend = await openLsmBackend({ job: v2, dir: join(root, 'v2'), restoreFrom: join(root, 'sp'), restore: 'in-place' });
  const value = backend.operator(wideOp).value(wide);
  // Before the pass runs: read in place (a key group's second read keeps its table).
  for (let i = 0; i < 3000; i += 7) expect(value.get(`k${i}`)).toBe(BigInt(i));
  expect(value.get('absent')).toBeUndefined();
  const lower = backend.lower! as unknown as { cache: Map<string, unknown>; groupBytes: unknown };
  expect(lower.cache.size).toBeGreaterThan(0);
  await backend.copying!.done;
  expect(lower.cache.size).toBe(0);
  using reads = vi.spyOn(lower as { groupBytes(): unknown }, 'groupBytes');
  expect(value.get('absent')).toBeUndefined();
  expect(value.get('k2999')).toBe(2999n);
  expect(reads).not.toHaveBeenCalled();
  await backend.close();
});

test('the copy pass stops at once on damage or refused access (reads stay served), and resumes on the next open', async () => {
  for (const failure of [() => new CorruptSavepointError('block checksum mismatch', 'sp/op-0-31.data', 64), () => new SavepointStorageError('access', 'cannot read: access denied', 'a store')]) {
    const root = await tempDir();
    await widenedSavepoint(root);
    const dir = join(root, 'v2');
    {
      using reads = failingReads(1, failure);
      const backend = await openLsmBackend({ job: v2, dir, restoreFrom: join(root, 'sp'), restore: 'in-place' });
      await expect(backend.copying!.done).rejects.toThrow(failure().message);
      expect(reads.failed()).toBe(1);
      expect(backend.lower).toBeDefined();
      expect(backend.operator(wideOp).value(wide).get('k2999')).toBe(2999n);
      await backend.close();
    }
    const reopened = await openLsmBackend({ job: v2, dir });
    await reopened.copying!.done;
    await reopened.checkpoint();
    expect(reopened.lower).toBeUndefined();
    expect(reopened.operator(wideOp).value(wide).get('k1234')).toBe(1234n);
    await reopened.close();
  }
});

test('in place with eager migration: once the copy pass is done, a background pass migrates every entry and the old version retires', async () => {
  const root = await tempDir();
  await widenedSavepoint(root);
  const backend = await openLsmBackend({ job: v2, dir: join(root, 'v2'), restoreFrom: join(root, 'sp'), restore: 'in-place', migration: 'eager' });
  backend.operator(wideOp).value(wide).set('k7', -7n);
  await backend.copying!.done;
  expect(backend.background).toBeDefined();
  await backend.background!.done;
  await backend.checkpoint();
  expect(backend.states[0].versions).toHaveLength(1);
  expect(backend.operator(wideOp).value(wide).get('k2999')).toBe(2999n);
  expect(backend.operator(wideOp).value(wide).get('k7')).toBe(-7n);
  await backend.savepoint(join(root, 'sp2'));
  await backend.close();
  const out = await openSavepoint(join(root, 'sp2'));
  expect(out.metadata.operators[0].states[0].versions).toHaveLength(1);
});

test('restoring again over an interrupted restore starts clean; opening it without restoreFrom names the savepoint', async () => {
  const root = await tempDir();
  const first = await openLsmBackend({ job, dir: join(root, 'v1') });
  for (let i = 0; i < 100; i++) first.operator(op).list(l).addAll(`k${i}`, ['x', 'y']);
  await first.savepoint(join(root, 'sp'));
  await first.close();
  // An interrupted restore: the marker written, part of the entries copied, then the process gone.
  const dir = join(root, 'db');
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  await db.put(new Uint8Array([0, 0, 0, 1, 9]), new Uint8Array([1, 2]));
  await db.close();
  await writeFile(join(dir, 'RESTORING'), join(root, 'sp'));
  const refused = await openLsmBackend({ job, dir }).catch((e: Error) => e);
  expect(refused).toBeInstanceOf(RestoreError);
  expect((refused as Error).message).toContain(join(root, 'sp'));
  const restored = await openLsmBackend({ job, dir, restoreFrom: join(root, 'sp') });
  for (let i = 0; i < 100; i += 9) expect(restored.operator(op).list(l).get(`k${i}`)).toEqual(['x', 'y']);
  await restored.close();
  const reopened = await openLsmBackend({ job, dir });
  expect(reopened.operator(op).list(l).get('k7')).toEqual(['x', 'y']);
  await reopened.close();
});

test('in place: reads are served from the savepoint before anything is copied, writes shadow it, the copy pass copies it in and the next checkpoint drops it; its files are never modified', async () => {
  const root = await tempDir();
  const first = await openLsmBackend({ job, dir: join(root, 'v1') });
  for (let i = 0; i < 2000; i++) {
    first.operator(op).value(v).set(`k${i}`, BigInt(i));
    first.operator(op).list(l).addAll(`k${i}`, [`a${i}`, `b${i}`]);
    first.operator(op).map(m).putAll(`k${i}`, [['x', i], ['y', -i]]);
  }
  const sp = join(root, 'sp');
  await first.savepoint(sp);
  await first.close();
  const before = await digest(sp);

  const backend = await openLsmBackend({ job, dir: join(root, 'db'), restoreFrom: sp, restore: 'in-place', copyRate: 1 });
  const h = backend.operator(op);
  expect(backend.lower).toBeDefined();
  expect(h.value(v).get('k1999')).toBe(1999n);
  expect(h.list(l).get('k7')).toEqual(['a7', 'b7']);
  expect(h.map(m).get('k7', 'y')).toBe(-7);
  h.value(v).clear('k1');
  h.map(m).clear('k2');
  h.map(m).put('k3', 'z', 3);
  h.list(l).add('k4', 'c4');
  expect(h.value(v).get('k1')).toBeUndefined();
  expect(h.map(m).get('k2', 'x')).toBeUndefined();
  const entries = new Map<unknown, unknown>();
  for await (const [mk, value] of h.map(m).entries('k3')) entries.set(mk, value);
  expect(entries).toEqual(new Map([['x', 3], ['y', -3], ['z', 3]]));
  let keys = 0;
  for await (const _ of h.keys(v)) keys++;
  expect(keys).toBe(1999);
  await backend.checkpoint({ position: new Uint8Array([9]) });
  await backend.close();

  // Reopened while the pass is not done: the lower layer is attached again, writes still shadow it.
  const again = await openLsmBackend({ job, dir: join(root, 'db') });
  expect(again.lower).toBeDefined();
  const a = again.operator(op);
  expect(a.value(v).get('k1')).toBeUndefined();
  expect(a.list(l).get('k4')).toEqual(['a4', 'b4', 'c4']);
  expect(a.map(m).get('k2', 'y')).toBeUndefined();
  await again.copying!.done;
  await again.checkpoint();
  expect(again.lower).toBeUndefined();
  expect(a.value(v).get('k1999')).toBe(1999n);
  expect(a.value(v).get('k1')).toBeUndefined();
  expect(a.map(m).get('k3', 'z')).toBe(3);
  const out = join(root, 'sp2');
  await again.savepoint(out);
  await again.close();
  expect(await digest(sp)).toBe(before);
  const copied = await openLsmBackend({ job, dir: join(root, 'db2'), restoreFrom: out });
  expect(copied.operator(op).list(l).get('k4')).toEqual(['a4', 'b4', 'c4']);
  expect(copied.operator(op).value(v).get('k1')).toBeUndefined();
  await copied.close();
});

test('in place: writes, deletes and flushes made while the copy pass runs always win over the copied entries, in every interleaving', async () => {
  // Two key groups of several blocks each, so LevelDB's keys change between the pass's runs of one key group.
  const text = valueState('text', string());
  const tags = listState('tags', string());
  const wide = operator({ uid: 'wide', key: string(), states: [text, tags] });
  const small = defineJob({ name: 'wide', maxParallelism: 2, operators: [wide] });
  const root = await tempDir();
  const first = await openLsmBackend({ job: small, dir: join(root, 'v1') });
  const N = 5000;
  const model = new Map<string, string | undefined>();
  for (let i = 0; i < N; i++) {
    const value = `${i}:`.padEnd(100, 'x');
    first.operator(wide).value(text).set(`k${i}`, value);
    first.operator(wide).list(tags).addAll(`k${i}`, [`t${i}`, `u${i}`]);
    model.set(`k${i}`, value);
  }
  const sp = join(root, 'sp');
  await first.savepoint(sp);
  await first.close();

  const backend = await openLsmBackend({ job: small, dir: join(root, 'db'), restoreFrom: sp, restore: 'in-place', copyRate: 20_000, writeBufferSize: 40 });
  const h = backend.operator(wide);
  let round = 0;
  let done = false;
  void backend.copying!.done.then(() => (done = true));
  while (!done) {
    for (let j = 0; j < 30; j++) {
      const key = `k${(round * 7919 + j * 104729) % N}`;
      if (j % 5 === 0) {
        h.value(text).clear(key);
        model.set(key, undefined);
      } else {
        h.value(text).set(key, `new ${round}`);
        model.set(key, `new ${round}`);
      }
    }
    if (round++ % 3 === 0) await backend.checkpoint();
    else await new Promise((resolve) => setTimeout(resolve, 2));
  }
  expect(round).toBeGreaterThan(3);
  await backend.checkpoint();
  expect(backend.lower).toBeUndefined();
  for (const [key, value] of model) expect(h.value(text).get(key), key).toBe(value);
  expect(h.list(tags).get('k4999')).toEqual(['t4999', 'u4999']);
  await backend.close();
});

test('in place: a damaged block gives CorruptSavepointError naming the file and offset, never a wrong value', async () => {
  const root = await tempDir();
  const first = await openLsmBackend({ job, dir: join(root, 'v1') });
  for (let i = 0; i < 500; i++) first.operator(op).value(v).set(`k${i}`, BigInt(i));
  const sp = join(root, 'sp');
  await first.savepoint(sp);
  await first.close();
  const files = (await readdir(sp)).filter((f) => f.endsWith('.dat'));
  const path = join(sp, files[0]);
  const bytes = await readFile(path);
  bytes[bytes.length - 3] ^= 0x40;
  await writeFile(path, bytes);
  const backend = await openLsmBackend({ job, dir: join(root, 'db'), restoreFrom: sp, restore: 'in-place', copyRate: 1 });
  expectDamagedReads((key) => backend.operator(op).value(v).get(key), 500, files[0]);
  await backend.close();
});

async function digest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(dir)).sort()) hash.update(name).update(await readFile(join(dir, name)));
  return hash.digest('hex');
}
