/**
 * The LSM backend with BENCH_KEYS order records (default 1 million), as ratios from one run:
 * get and update against raw classic-level get/put of the same bytes; eager migration against the
 * same work by hand (raw iterate, avsc decode and encode, raw batch put); lazy restore against eager
 * restore, and the first read after a lazy restore; and what a user would otherwise write: LevelDB
 * with JSON values and a hand-written migration loop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportManual, timeIt, type ManualRow } from '@stateshift/bench';
import { defineJob, operator, string, valueState } from '@stateshift/core';
import { avro } from '@stateshift/avro';
import avsc from 'avsc';
import { ClassicLevel } from 'classic-level';
import { openLsmBackend } from '../src/index.js';

const N = Number(process.env.BENCH_KEYS ?? 1_000_000);
const OPS = Math.min(N, 100_000);
const v1Schema = { type: 'record', name: 'Order', fields: [{ name: 'orderId', type: 'string' }, { name: 'userId', type: 'string' }, { name: 'createTs', type: 'long' }, { name: 'qty', type: 'int' }] };
const v2Schema = { ...v1Schema, fields: [...v1Schema.fields.slice(0, 3), { name: 'qty', type: 'long' }, { name: 'channel', type: 'string', default: 'web' }] };
const job = (schema: object) => defineJob({ name: 'orders', maxParallelism: 128, operators: [operator({ uid: 'orders', key: string(), states: [valueState('last-order', avro(schema as never))] })] });
const order = (i: number) => ({ orderId: `o-${i}`, userId: `u-${i}`, createTs: 1_700_000_000_000n + BigInt(i), qty: i % 10 });
const key = (i: number) => `u-${i}`;

const base = await mkdtemp(join(tmpdir(), 'stateshift-lsm-bench-'));
const rows: ManualRow[] = [];
try {
  // Load N keys and take a savepoint of version 1.
  const v1 = await openLsmBackend({ job: job(v1Schema), dir: join(base, 'v1') });
  const last = v1.operator<string>('orders').value('last-order');
  const load = await timeIt(async () => {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < N; i++) {
      pending.push(last.set(key(i), order(i)));
      if (pending.length >= 1000) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
  });
  const get = await timeIt(async () => {
    for (let i = 0; i < OPS; i++) await last.get(key((i * 7919) % N));
  });
  const update = await timeIt(async () => {
    for (let i = 0; i < OPS; i++) await last.update(key((i * 7919) % N), (o) => ({ ...(o as object), qty: 1 }) as never);
  });
  const savepoint = join(base, 'sp');
  await v1.savepoint(savepoint);
  await v1.close();

  // Raw classic-level with the same bytes.
  const rawType = avsc.Type.forSchema(v1Schema as avsc.Schema);
  const raw = new ClassicLevel<string, Buffer>(join(base, 'raw'), { valueEncoding: 'buffer' });
  const rawOrder = (i: number) => rawType.toBuffer({ ...order(i), createTs: Number(order(i).createTs) });
  for (let i = 0; i < N; i += 1000) await raw.batch(Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: rawOrder(i + j) })));
  const rawGet = await timeIt(async () => {
    for (let i = 0; i < OPS; i++) await raw.get(key((i * 7919) % N));
  });
  const rawUpdate = await timeIt(async () => {
    for (let i = 0; i < OPS; i++) {
      const k = key((i * 7919) % N);
      const v = rawType.fromBuffer((await raw.get(k))!);
      await raw.put(k, rawType.toBuffer({ ...v, qty: 1 }));
    }
  });
  // Eager migration by hand: iterate, decode with the resolver, encode, batch put.
  const rawV2 = avsc.Type.forSchema(v2Schema as avsc.Schema);
  const resolver = rawV2.createResolver(rawType);
  const byHand = await timeIt(async () => {
    let batch = raw.batch();
    for await (const [k, v] of raw.iterator()) {
      batch.put(k, rawV2.toBuffer(rawV2.fromBuffer(v, resolver)));
      if (batch.length >= 1000) {
        await batch.write();
        batch = raw.batch();
      }
    }
    await batch.write();
  });
  await raw.close();

  // What a user writes otherwise: JSON values and a migration loop.
  const json = new ClassicLevel<string, string>(join(base, 'json'));
  for (let i = 0; i < N; i += 1000) await json.batch(Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: JSON.stringify({ ...order(i + j), createTs: String(order(i + j).createTs) }) })));
  const jsonMigration = await timeIt(async () => {
    let batch = json.batch();
    for await (const [k, v] of json.iterator()) {
      const o = JSON.parse(v);
      batch.put(k, JSON.stringify({ ...o, channel: 'web' }));
      if (batch.length >= 1000) {
        await batch.write();
        batch = json.batch();
      }
    }
    await batch.write();
  });
  await json.close();

  const eager = await timeIt(async () => (await openLsmBackend({ job: job(v2Schema), dir: join(base, 'eager'), restoreFrom: savepoint, migration: 'eager' })).close());
  let lazyBackend!: Awaited<ReturnType<typeof openLsmBackend>>;
  const lazy = await timeIt(async () => {
    lazyBackend = await openLsmBackend({ job: job(v2Schema), dir: join(base, 'lazy'), restoreFrom: savepoint, migration: 'lazy' });
  });
  const firstRead = await timeIt(() => lazyBackend.operator('orders').value('last-order').get(key(N - 1)));
  await lazyBackend.close();
  const eagerPass = await timeIt(async () => (await openLsmBackend({ job: job(v2Schema), dir: join(base, 'lazy'), migration: 'eager' })).close());

  rows.push(
    { group: `get x${OPS} (of ${N} keys)`, case: 'classic-level get', seconds: rawGet, items: OPS, baseline: true },
    { group: `get x${OPS} (of ${N} keys)`, case: 'lsm value get', seconds: get, items: OPS, target: 0.8 },
    { group: `update x${OPS}`, case: 'classic-level get+put (avsc)', seconds: rawUpdate, items: OPS, baseline: true },
    { group: `update x${OPS}`, case: 'lsm value update', seconds: update, items: OPS, target: 0.8 },
    { group: `eager migration of ${N}`, case: 'by hand (iterate, avsc resolve, batch put)', seconds: byHand, items: N, baseline: true },
    { group: `eager migration of ${N}`, case: 'lsm migration pass (reopen)', seconds: eagerPass, items: N, target: 0.8 },
    { group: `eager migration of ${N}`, case: 'LevelDB + JSON by hand', seconds: jsonMigration, items: N },
    { group: `restore of ${N}`, case: 'eager restore', seconds: eager, items: N, baseline: true },
    { group: `restore of ${N}`, case: 'lazy restore', seconds: lazy, items: N, target: 5 },
    { group: `restore of ${N}`, case: 'first read after lazy restore', seconds: firstRead },
    { group: `load ${N}`, case: 'lsm set (1000 in flight)', seconds: load, items: N, baseline: true },
  );
  reportManual('backend-lsm', rows);
} finally {
  await rm(base, { recursive: true, force: true });
}
