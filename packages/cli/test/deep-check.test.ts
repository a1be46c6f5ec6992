// check --deep / --sample read the stored entries as a restore would; --rollback asks whether the
// previous version reads what the new one writes. Savepoints are written by the heap backend.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openHeapBackend } from '@stateshift/backend-heap';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { loadJob } from '../src/load-job.js';
import { fixture, run, tempDir } from './helpers.js';

interface Carts {
  total?: Record<string, number>;
  note?: Record<string, string>;
  line?: Record<string, { sku: string; qty: number }>;
  cart?: Record<string, { id: string; sku: string; qty: number }>;
}

/** A savepoint of carts-v1 holding `data`. */
async function cartsSavepoint(data: Carts): Promise<string> {
  const backend = await openHeapBackend({ job: await loadJob(fixture('carts-v1.mjs')) });
  const op = backend.operator('carts');
  for (const [state, values] of Object.entries(data)) {
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) op.value(state).set(key, value);
  }
  const dir = join(await tempDir(), 'savepoint');
  await backend.savepoint(dir);
  await backend.close();
  return dir;
}

const check = async (...args: string[]) => {
  const result = await run('check', ...args);
  return { ...result, json: args.includes('--json') ? JSON.parse(result.stdout) : undefined };
};
const stateOf = (json: { states: { state: string }[] }, name: string) => json.states.find((s) => s.state === name) as Record<string, any>;

describe('check --deep', () => {
  test('a key migration making two keys collide: SAFE schema-only, UNSAFE with --deep naming both keys', async () => {
    const sp = await cartsSavepoint({ total: { 'a-1': 5, 'b-1': 7, 'c-2': 1 } });
    const schema = await check(sp, '--job', fixture('carts-rekeyed.mjs'));
    expect(schema.code).toBe(0);
    expect(schema.stdout).toContain('schema-only: the stored entries were not read');
    expect(schema.stdout).toContain('SAFE');
    expect((await check(sp, '--job', fixture('carts-rekeyed.mjs'), '--json')).json.scope).toBe('schema');

    const deep = await check(sp, '--job', fixture('carts-rekeyed.mjs'), '--deep');
    expect(deep.code).toBe(1);
    expect(deep.stdout).toMatch(/UNSAFE: a restore would fail with KeyCollisionError/);
    expect(deep.stdout).toMatch(/the old keys "[ab]-1" and "[ab]-1" both become the new key 1/);
    expect(deep.stdout).toMatch(/carts\s+total\s+.*2\/3 pass, 1 fail/);
    expect(deep.stdout).toMatch(/carts\/total key "[ab]-1": KeyCollisionError/);
    expect(deep.stdout).toContain('deep: every stored entry was read');
    const json = (await check(sp, '--job', fixture('carts-rekeyed.mjs'), '--deep', '--json')).json;
    expect(json).toMatchObject({ ok: false, scope: 'deep', error: { name: 'KeyCollisionError' } });
    expect(stateOf(json, 'total').entries).toMatchObject({ read: 3, passed: 2, merged: 0, failed: 1, failures: [{ key: expect.stringMatching(/^"[ab]-1"$/) }] });
  });

  test('with mergeOnCollision the collision is reported as merged and the upgrade is safe', async () => {
    const sp = await cartsSavepoint({ total: { 'a-1': 5, 'b-1': 7, 'c-2': 1 } });
    const deep = await check(sp, '--job', fixture('carts-rekeyed-merge.mjs'), '--deep');
    expect(deep.code).toBe(0);
    expect(deep.stdout).toMatch(/2\/3 pass, 1 merged/);
    const json = (await check(sp, '--job', fixture('carts-rekeyed-merge.mjs'), '--deep', '--json')).json;
    expect(stateOf(json, 'total').entries).toMatchObject({ read: 3, passed: 2, merged: 1, failed: 0 });
  });

  test('a converter returning NaN for one int32 value: UNSAFE with --deep naming the key', async () => {
    const notes = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`cart-${i}`, i === 6 ? 'lots' : String(i)]));
    const sp = await cartsSavepoint({ note: notes });
    expect((await check(sp, '--job', fixture('carts-note-number.mjs'))).code).toBe(0);
    const deep = await check(sp, '--job', fixture('carts-note-number.mjs'), '--deep', '--json');
    expect(deep.code).toBe(1);
    expect(deep.json.error.name).toBe('ConverterError');
    expect(deep.json.error.message).toMatch(/state "note": the migrate converter returned a value the new value serializer cannot write .*key "cart-6"/);
    expect(stateOf(deep.json, 'note').entries).toMatchObject({ read: 10, passed: 9, failed: 1, failures: [{ key: '"cart-6"', error: { name: 'ConverterError' } }] });
  });

  test('a converter returning a value that lacks a field: UNSAFE with --deep naming the key and the field', async () => {
    const sp = await cartsSavepoint({ line: { 'cart-1': { sku: 's-1', qty: 2 } } });
    expect((await check(sp, '--job', fixture('carts-line-renamed.mjs'))).code).toBe(0);
    const deep = await check(sp, '--job', fixture('carts-line-renamed.mjs'), '--deep');
    expect(deep.code).toBe(1);
    // The old value came back as it was: its "sku" is named first (refused, never dropped), with the fields Line has.
    expect(deep.stdout).toMatch(/carts\/line key "cart-1": ConverterError: .*Line\.sku: pojo Line has no field "sku"; its fields are code, qty/);
  });

  test('--sample n reads the first n entries of each state and says so', async () => {
    const totals = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`cart-${i}`, i]));
    const sp = await cartsSavepoint({ total: totals, note: { 'cart-1': '1', 'cart-2': '2' } });
    const sampled = await check(sp, '--job', fixture('carts-note-number.mjs'), '--sample', '3', '--json');
    expect(sampled.code).toBe(0);
    expect(sampled.json).toMatchObject({ scope: 'sample', sample: 3 });
    expect(stateOf(sampled.json, 'total').entries).toMatchObject({ read: 3, passed: 3 });
    expect(stateOf(sampled.json, 'note').entries).toMatchObject({ read: 2, passed: 2 });
    expect(stateOf(sampled.json, 'line').entries).toMatchObject({ read: 0 });
    const human = await check(sp, '--job', fixture('carts-note-number.mjs'), '--sample', '3');
    expect(human.stdout).toContain('sample: the first 3 entries of each state were read');
    expect(human.stdout).toMatch(/SAFE.* for the entries sampled/);
  });

  test('bad --sample, --sample with --deep, --deep on an LSM database: usage errors (exit 2)', async () => {
    const sp = await cartsSavepoint({ total: { a: 1 } });
    for (const bad of [['--sample', '0'], ['--sample', 'x'], ['--sample', '3', '--deep']]) {
      const r = await check(sp, '--job', fixture('carts-v1.mjs'), ...bad);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--sample/);
    }
    const db = join(await tempDir(), 'db');
    const lsm = await openLsmBackend({ job: await loadJob(fixture('carts-v1.mjs')), dir: db });
    lsm.operator('carts').value('total').set('a', 1);
    await lsm.checkpoint();
    await lsm.close();
    const r = await check(db, '--job', fixture('carts-v1.mjs'), '--deep');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is an LSM database directory: --sample and --deep read a savepoint's entries/);
    expect((await check(db, '--job', fixture('carts-v1.mjs'))).code).toBe(0);
  });
});

describe('check --rollback', () => {
  test('a removed field without a default in the previous version: the upgrade is safe, the rollback is not', async () => {
    const sp = await cartsSavepoint({ cart: { 'cart-1': { id: 'c1', sku: 's-1', qty: 1 } } });
    expect((await check(sp, '--job', fixture('carts-cart-sku-removed.mjs'))).code).toBe(0);
    const human = await check(sp, '--job', fixture('carts-cart-sku-removed.mjs'), '--rollback');
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('SAFE: a restore of this savepoint into the job goes ahead');
    expect(human.stdout).toMatch(/carts\s+cart\s+no\s+no\s+incompatible\s+.*sku/);
    expect(human.stdout).toMatch(/carts\s+total\s+yes\s+yes\s+compatibleAsIs/);
    expect(human.stdout).toContain('ROLLBACK UNSAFE: a restore into the previous version would fail with IncompatibleStateError');
    const json = (await check(sp, '--job', fixture('carts-cart-sku-removed.mjs'), '--rollback', '--json')).json;
    expect(json.ok).toBe(true);
    expect(json.rollback).toMatchObject({ ok: false, previousJob: 'savepoint' });
    expect(stateOf(json, 'cart').rollback).toMatchObject({ forward: false, full: false, verdict: 'incompatible' });
    // The previous job module gives the same answer, and implies --rollback.
    const declared = await check(sp, '--job', fixture('carts-cart-sku-removed.mjs'), '--previous-job', fixture('carts-v1.mjs'), '--json');
    expect(declared.code).toBe(1);
    expect(declared.json.rollback).toMatchObject({ ok: false, previousJob: 'declaration' });
  });

  test('a field added with a default: FORWARD and FULL, exit 0', async () => {
    const sp = await cartsSavepoint({ cart: { 'cart-1': { id: 'c1', sku: 's-1', qty: 1 } } });
    const json = (await check(sp, '--job', fixture('carts-cart-channel-added.mjs'), '--rollback', '--json')).json;
    expect(json.rollback.ok).toBe(true);
    expect(stateOf(json, 'cart').rollback).toMatchObject({ forward: true, full: true });
    expect((await check(sp, '--job', fixture('carts-cart-channel-added.mjs'), '--rollback')).code).toBe(0);
  });
});

describe('migrate', () => {
  test('a re-keying migration refuses colliding keys, naming them', async () => {
    const sp = await cartsSavepoint({ total: { 'a-1': 5, 'b-1': 7 } });
    const r = await run('migrate', sp, '--job', fixture('carts-rekeyed.mjs'), '--out', join(await tempDir(), 'out'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/KeyCollisionError: .*the old keys "[ab]-1" and "[ab]-1" both become the new key 1/);
  });

  test('with mergeOnCollision the colliding values are merged', async () => {
    const sp = await cartsSavepoint({ total: { 'a-1': 5, 'b-1': 7, 'c-2': 1 } });
    const out = join(await tempDir(), 'out');
    expect((await run('migrate', sp, '--job', fixture('carts-rekeyed-merge.mjs'), '--out', out)).code).toBe(0);
    const dumped = await run('dump', out, '--operator', 'carts', '--state', 'total');
    const rows = dumped.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(new Map(rows.map((r) => [r.key, r.value]))).toEqual(new Map([[1, 12], [2, 1]]));
  });
});
