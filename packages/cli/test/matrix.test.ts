// Every offline operation on savepoints of every backend and mode: heap, LSM eager, LSM lazy with
// two schema versions alive; several states per operator, a namespace, map states, four formats.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DataOutput, keyGroupOf, string, type JobDeclaration } from '@stateshift/core';
import {
  bootstrapSavepoint,
  describeSavepoint,
  openSavepoint,
  readState,
  rescaleSavepoint,
  rewriteSavepoint,
  type BootstrapEntry,
} from '@stateshift/savepoint';
import { toJson } from '../src/index.js';
import { loadJob } from '../src/load-job.js';
import { BACKEND_KINDS, getValue, openBackend, writeRows, type BackendKind, type Row } from './backends.js';
import { fixture, run, tempDir } from './helpers.js';

const USERS = 40;
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

function v1Rows(): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < USERS; i++) {
    const key = `u${i}`;
    rows.push({ uid: 'orders', state: 'last', key, value: { orderId: `o-${i}`, qty: i } });
    for (const id of ['a', 'b', 'c']) rows.push({ uid: 'orders', state: 'ids', key, value: `${id}${i}` });
    rows.push({ uid: 'orders', state: 'byDay', key, mapKey: 'mon', value: i }, { uid: 'orders', state: 'byDay', key, mapKey: 'tue', value: i + 1 });
    for (const ns of [1n, 2n]) {
      rows.push({ uid: 'windows', state: 'sum', key, namespace: ns, value: { total: i * Number(ns) } });
      rows.push({ uid: 'windows', state: 'tags', key, namespace: ns, mapKey: 't', value: { name: `n${i}`, weight: i } });
    }
  }
  return rows;
}

/** Every entry of every state, as sorted JSON lines (read with the stored snapshots, or through `job`). */
async function contents(dir: string, job?: JobDeclaration): Promise<Record<string, string[]>> {
  const sp = await openSavepoint(dir);
  const out: Record<string, string[]> = {};
  for (const op of sp.operators) {
    for (const s of op.states) {
      const lines: string[] = [];
      for await (const e of readState(sp, op.uid, s.name, { job })) lines.push(JSON.stringify(toJson([e.key, e.namespace, e.mapKey, e.value])));
      out[`${op.uid}/${s.name}`] = lines.sort();
    }
  }
  return out;
}

function runBin(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let v1: JobDeclaration;
let v2: JobDeclaration;
/** Savepoints shared by the tests of a backend kind live here until the end of the file. */
let shared: string;
beforeAll(async () => {
  v1 = await loadJob(fixture('matrix-v1.mjs'));
  v2 = await loadJob(fixture('matrix-v2.mjs'));
  shared = await mkdtemp(join(tmpdir(), 'stateshift-matrix-'));
});
afterAll(async () => {
  await rm(shared, { recursive: true, force: true });
});

/** A savepoint of the kind: v1 data; for LSM lazy, restored into v2 and half the orders rewritten (two versions alive). */
async function savepointOf(kind: BackendKind): Promise<string> {
  const dir = join(shared, `sp-${kind}`);
  if (kind !== 'lsm-lazy') {
    const backend = await openBackend(kind, v1);
    await writeRows(backend, v1Rows());
    await backend.savepoint(dir);
    await backend.close();
    return dir;
  }
  const first = join(await tempDir(), 'sp-v1');
  const heap = await openBackend('heap', v1);
  await writeRows(heap, v1Rows());
  await heap.savepoint(first);
  const lazy = await openBackend('lsm-lazy', v2, first);
  const updates: Row[] = [];
  for (let i = 0; i < USERS; i += 2) updates.push({ uid: 'orders', state: 'last', key: `u${i}`, value: { orderId: `o-${i}`, qty: BigInt(i), channel: 'app' } });
  await writeRows(lazy, updates);
  await lazy.savepoint(dir);
  await lazy.close();
  return dir;
}

describe.each(BACKEND_KINDS)('savepoint of %s', (kind) => {
  let sp: string;
  let expected: Record<string, string[]>;
  beforeAll(async () => {
    sp = await savepointOf(kind);
    expected = await contents(sp, v2);
  });

  test('the savepoint has what the test means it to have', async () => {
    const summary = describeSavepoint(await openSavepoint(sp));
    expect(summary.entries).toBe(USERS * 10);
    const last = summary.operators[0].states[0];
    expect(last.versions.length).toBe(kind === 'lsm-lazy' ? 2 : 1);
    expect(expected['orders/last']).toContain(JSON.stringify(toJson(['u3', null, null, { orderId: 'o-3', qty: 3n, channel: 'web' }])));
    if (kind === 'lsm-lazy') expect(expected['orders/last']).toContain(JSON.stringify(toJson(['u2', null, null, { orderId: 'o-2', qty: 2n, channel: 'app' }])));
    expect(expected['orders/ids'].filter((l) => l.startsWith('["u5"'))).toHaveLength(3);
  });

  test('inspect and dump decode every format in a fresh process, without a job module', async () => {
    const inspect = await runBin(['inspect', sp, '--json']);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).not.toContain('"opaque"');
    for (const [op, state] of [['orders', 'last'], ['windows', 'sum'], ['windows', 'tags']]) {
      const dump = await runBin(['dump', sp, '--operator', op, '--state', state]);
      expect(dump.code, dump.stderr).toBe(0);
      expect(dump.stdout.trim().split('\n').length).toBe(state === 'last' ? USERS : USERS * 2);
    }
  });

  test('check, and migrate: the result restores into the backend', async () => {
    const check = await run('check', sp, '--job', fixture('matrix-v2.mjs'), '--json');
    expect(check.code, check.stderr).toBe(0);
    const out = join(await tempDir(), 'migrated');
    const migrated = await run('migrate', sp, '--job', fixture('matrix-v2.mjs'), '--out', out);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(await contents(out)).toEqual(expected);
    const threaded = join(await tempDir(), 'threaded');
    const workers = await run('migrate', sp, '--job', fixture('matrix-v2.mjs'), '--out', threaded, '--workers', '2');
    expect(workers.code, workers.stderr).toBe(0);
    expect(await contents(threaded)).toEqual(expected);
    const backend = await openBackend(kind, v2, out);
    expect(await getValue(backend, 'windows', 'sum', 'u7', 2n)).toEqual({ total: 14n });
    await backend.close();
  });

  test('migrate --key-groups in four processes, then merge, gives what one migrate gives', async () => {
    const full = join(await tempDir(), 'full');
    expect((await run('migrate', sp, '--job', fixture('matrix-v2.mjs'), '--out', full)).code).toBe(0);
    const base = await tempDir();
    const ranges = ['0-3', '4-7', '8-11', '12-15'];
    const results = await Promise.all(ranges.map((r, i) => runBin(['migrate', sp, '--job', fixture('matrix-v2.mjs'), '--out', join(base, `p${i}`), '--key-groups', r])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const parts = ranges.map((_, i) => join(base, `p${i}`));
    expect((await run('inspect', parts[1])).stdout).toContain('partial: holds key groups 4-7 of 0-15');
    const partialCheck = await run('check', parts[1], '--job', fixture('matrix-v2.mjs'));
    expect(partialCheck.code).toBe(1);
    expect(partialCheck.stdout).toContain('savepoint is partial');
    const merged = join(base, 'merged');
    const merge = await run('merge', ...parts, '--out', merged);
    expect(merge.code, merge.stderr).toBe(0);
    expect(await contents(merged)).toEqual(await contents(full));
    const backend = await openBackend(kind, v2, merged);
    expect(await getValue(backend, 'orders', 'last', 'u9')).toEqual({ orderId: 'o-9', qty: 9n, channel: 'web' });
    await backend.close();
    const overlap = await run('merge', parts[0], parts[0], '--out', join(base, 'x'));
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toContain('both hold key groups 0-3');
  });

  test('transform, rename and drop by declaration', async () => {
    const renamed = await loadJob(fixture('matrix-v3-renamed.mjs'));
    const out = join(await tempDir(), 'renamed');
    await rewriteSavepoint(sp, out, {
      job: renamed,
      transform: { 'orders-v3/last': (v) => ({ ...(v as object), channel: 'moved' }) },
    });
    const got = await contents(out);
    expect(Object.keys(got)).toEqual(['orders-v3/last', 'orders-v3/ids']);
    expect(got['orders-v3/ids']).toEqual(expected['orders/ids']);
    expect(got['orders-v3/last'].every((l) => l.includes('"channel":"moved"'))).toBe(true);
    if (kind === 'heap') {
      // Restored straight from the source: the renamed operator's state comes from its previous uid.
      const direct = await openBackend(kind, renamed, sp);
      expect(await getValue(direct, 'orders-v3', 'last', 'u3')).toMatchObject({ orderId: 'o-3', channel: 'web' });
      await direct.close();
    }
    const backend = await openBackend(kind, renamed, out);
    expect(await getValue(backend, 'orders-v3', 'last', 'u3')).toMatchObject({ orderId: 'o-3', channel: 'moved' });
    await backend.close();
    const report = JSON.parse((await run('check', sp, '--job', fixture('matrix-v3-renamed.mjs'), '--json')).stdout);
    expect(report.ok).toBe(true);
    expect(report.operators).toEqual([
      { uid: 'orders-v3', status: 'renamed', previousUid: 'orders', rekey: false },
      { uid: 'windows', status: 'dropped', dropReason: 'declared', rekey: false },
    ]);
    expect(report.states.find((s: { state: string }) => s.state === 'byDay')).toMatchObject({ verdict: 'dropped', dropReason: 'declared' });
    const human = (await run('check', sp, '--job', fixture('matrix-v3-renamed.mjs'))).stdout;
    expect(human).toContain('operator "orders-v3": renamed from "orders" (previousUids)');
    expect(human).toContain('operator "windows": dropped (declared in dropOperators)');
    expect(human).toMatch(/orders-v3\s+byDay\s+dropped \(dropStates\)/);
    expect(human).toMatch(/windows\s+tags\s+dropped \(dropOperators\)/);
  });

  test('rescale and bootstrap keep every entry', async () => {
    const rescaled = join(await tempDir(), 'rescaled');
    await rescaleSavepoint(sp, rescaled, { maxParallelism: 64, sortBufferBytes: 4096 });
    expect((await openSavepoint(rescaled)).maxParallelism).toBe(64);
    // Rescaled entries are at the newest schema version (for LSM lazy: v2; else v1, as stored).
    expect(await contents(rescaled)).toEqual(kind === 'lsm-lazy' ? expected : await contents(sp));
    const rows: BootstrapEntry[] = [];
    const source = await openSavepoint(sp);
    for (const op of v2.operators) {
      for (const s of op.states) {
        for await (const e of readState(source, op.uid, s.name, { job: v2 })) rows.push({ operator: op.uid, state: s.name, key: e.key, namespace: e.namespace, mapKey: e.mapKey, value: e.value });
      }
    }
    const boot = join(await tempDir(), 'boot');
    await bootstrapSavepoint(boot, v2, rows.reverse(), { sortBufferBytes: 4096 });
    expect(await contents(boot)).toEqual(expected);
  });
});

describe.each(['heap', 'lsm-eager'] as const)('instances of %s', (kind) => {
  test('each instance writes a partial savepoint that says so; merged, they restore whole', async () => {
    const job = await loadJob(fixture('orders.mjs'));
    const base = await tempDir();
    const parts: string[] = [];
    for (const index of [0, 1]) {
      const backend = await openBackend(kind, job, undefined, { parallelism: 2, index });
      const { start, end } = backend.keyGroupRange;
      const rows: Row[] = [];
      for (let i = 0; i < 200; i++) {
        const out = new DataOutput();
        string().serialize(`user-${i}`, out);
        const kg = keyGroupOf(out.toBytes(), job.maxParallelism);
        if (kg >= start && kg <= end) rows.push({ uid: 'orders-per-user', state: 'count', key: `user-${i}`, value: BigInt(i) });
      }
      await writeRows(backend, rows);
      parts.push(join(base, `i${index}`));
      await backend.savepoint(parts[index]);
      await backend.close();
    }
    if (kind === 'heap') {
      // An instance with no entries still holds (only) its key groups.
      const empty = await openBackend(kind, job, undefined, { parallelism: 2, index: 1 });
      await empty.savepoint(join(base, 'empty'));
      await empty.close();
      expect((await run('inspect', join(base, 'empty'))).stdout).toContain('partial: holds key groups 32-63 of 0-63');
    }
    const inspect = await run('inspect', parts[1]);
    expect(inspect.stdout).toContain('partial: holds key groups 32-63 of 0-63');
    const check = await run('check', parts[0], '--job', fixture('orders.mjs'));
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/savepoint is partial: it holds key groups 0-31 of 0-63/);
    expect((await run('check', parts[0], '--job', fixture('orders.mjs'), '--allow-partial')).code).toBe(0);
    expect((await run('check', parts[0], '--job', fixture('orders.mjs'), '--key-groups', '0-31')).code).toBe(0);
    // A restore refuses it too: a whole instance would serve half of the keys.
    await expect(openBackend(kind, job, parts[0])).rejects.toThrow(/savepoint is partial: it holds key groups 0-31 of 0-63/);
    const merged = join(base, 'merged');
    expect((await run('merge', ...parts, '--out', merged)).code).toBe(0);
    const whole = await openBackend(kind, job, merged);
    expect(await getValue(whole, 'orders-per-user', 'count', 'user-5')).toBe(5n);
    expect(await getValue(whole, 'orders-per-user', 'count', 'user-150')).toBe(150n);
    await whole.close();
  });
});
