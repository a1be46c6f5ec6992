/**
 * LSM backend benchmarks, on the built code (`pnpm bench`): each case runs the same work on the
 * LSM backend and on raw classic-level, interleaved, REPS times, each on fresh directories; the
 * ratios are baseline time / LSM time (above 1: the LSM backend is faster).
 *
 * - orders: the demo's orders loop (count update, last order set, recent order ids add) with a
 *   checkpoint per 100 orders, against a hand-written loop doing the same reads with getSync and
 *   one batch write per 100 orders, and against the same operations awaited one by one.
 * - list: get + trim to the last 10 + update, a checkpoint per 100, against the same on raw
 *   classic-level (getSync, one batch per 100).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob, int64, listState, operator, string, valueState } from '@stateshift/core';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { pojo } from '@stateshift/pojo';
import { ClassicLevel } from 'classic-level';

const REPS = Number(process.env.BENCH_REPS ?? 7);
const ORDERS = Number(process.env.BENCH_ORDERS ?? 20_000);
const USERS = Array.from({ length: 1000 }, (_, i) => `user-${i}`);

interface Order {
  orderId: string;
  userId: string;
  createTs: bigint;
}
const job = defineJob({
  name: 'orders',
  maxParallelism: 128,
  operators: [
    operator({
      uid: 'orders-per-user',
      key: string(),
      states: [
        valueState('count', int64()),
        valueState('last-order', pojo<Order>('Order', { orderId: string(), userId: string(), createTs: int64() })),
        listState('recent-order-ids', string()),
      ],
    }),
  ],
});
const orderOf = (i: number): Order => ({ orderId: `o-${i}`, userId: USERS[i % USERS.length], createTs: 1_700_000_000_000n + BigInt(i) });

type Db = ClassicLevel<Uint8Array, Uint8Array>;
const openRaw = async (dir: string): Promise<Db> => {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return db;
};
const keyOf = (state: string, user: string) => Buffer.from(`${state}\u0000${user}`);
const encodeCount = (n: bigint) => {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(n);
  return b;
};
const encodeOrder = (o: Order) => Buffer.from(JSON.stringify({ orderId: o.orderId, userId: o.userId, createTs: String(o.createTs) }));
/** A list of strings as raw bytes: each element then a newline. */
const appendElement = (list: Uint8Array | undefined, element: string) => Buffer.concat(list ? [list, Buffer.from(`${element}\n`)] : [Buffer.from(`${element}\n`)]);

async function ordersLsm(dir: string): Promise<void> {
  const backend = await openLsmBackend({ job, dir });
  const op = backend.operator('orders-per-user');
  const counts = op.value('count');
  const last = op.value('last-order');
  const recent = op.list('recent-order-ids');
  for (let i = 0; i < ORDERS; i++) {
    const order = orderOf(i);
    counts.update(order.userId, (c) => (c ?? 0n) + 1n);
    last.set(order.userId, order);
    recent.add(order.userId, order.orderId);
    if ((i + 1) % 100 === 0) await backend.checkpoint();
  }
  await backend.close();
}

async function ordersRawBatched(dir: string): Promise<void> {
  const db = await openRaw(dir);
  let batch: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const order = orderOf(i);
    const countKey = keyOf('count', order.userId);
    const stored = db.getSync(countKey);
    const count = (stored ? Buffer.from(stored).readBigInt64BE() : 0n) + 1n;
    const listKey = keyOf('recent', order.userId);
    batch.push(
      { type: 'put', key: countKey, value: encodeCount(count) },
      { type: 'put', key: keyOf('last', order.userId), value: encodeOrder(order) },
      { type: 'put', key: listKey, value: appendElement(db.getSync(listKey), order.orderId) },
    );
    if ((i + 1) % 100 === 0) {
      await db.batch(batch);
      batch = [];
    }
  }
  await db.close();
}

/** The same loop writing through classic-level's chained batch (cheaper per operation than the array form). */
async function ordersRawChained(dir: string): Promise<void> {
  const db = await openRaw(dir);
  let batch = db.batch();
  for (let i = 0; i < ORDERS; i++) {
    const order = orderOf(i);
    const countKey = keyOf('count', order.userId);
    const stored = db.getSync(countKey);
    const listKey = keyOf('recent', order.userId);
    batch.put(countKey, encodeCount((stored ? Buffer.from(stored).readBigInt64BE() : 0n) + 1n));
    batch.put(keyOf('last', order.userId), encodeOrder(order));
    batch.put(listKey, appendElement(db.getSync(listKey), order.orderId));
    if ((i + 1) % 100 === 0) {
      await batch.write();
      batch = db.batch();
    }
  }
  await batch.close();
  await db.close();
}

async function ordersRawAwaited(dir: string): Promise<void> {
  const db = await openRaw(dir);
  for (let i = 0; i < ORDERS; i++) {
    const order = orderOf(i);
    const countKey = keyOf('count', order.userId);
    const stored = await db.get(countKey);
    await db.put(countKey, encodeCount((stored ? Buffer.from(stored).readBigInt64BE() : 0n) + 1n));
    await db.put(keyOf('last', order.userId), encodeOrder(order));
    const listKey = keyOf('recent', order.userId);
    await db.put(listKey, appendElement(await db.get(listKey), order.orderId));
  }
  await db.close();
}

const listJob = defineJob({ name: 'events', maxParallelism: 128, operators: [operator({ uid: 'events', key: string(), states: [listState('last', string())] })] });

async function listLsm(dir: string): Promise<void> {
  const backend = await openLsmBackend({ job: listJob, dir });
  const last = backend.operator('events').list('last');
  for (let i = 0; i < ORDERS; i++) {
    const key = USERS[i % USERS.length];
    const events = last.get(key);
    events.push(`event-${i}`);
    last.update(key, events.length > 10 ? events.slice(-10) : events);
    if ((i + 1) % 100 === 0) await backend.checkpoint();
  }
  await backend.close();
}

async function listRaw(dir: string): Promise<void> {
  const db = await openRaw(dir);
  let batch: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const key = keyOf('last', USERS[i % USERS.length]);
    const stored = db.getSync(key);
    const events = stored ? Buffer.from(stored).toString().split('\n').slice(0, -1) : [];
    events.push(`event-${i}`);
    const kept = events.length > 10 ? events.slice(-10) : events;
    batch.push({ type: 'put', key, value: Buffer.from(kept.map((e) => `${e}\n`).join('')) });
    if ((i + 1) % 100 === 0) {
      await db.batch(batch);
      batch = [];
    }
  }
  await db.close();
}

async function timed(base: string, name: string, fn: (dir: string) => Promise<void>): Promise<number> {
  const dir = join(base, `${name}-${Math.random().toString(36).slice(2)}`);
  const start = process.hrtime.bigint();
  await fn(dir);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await rm(dir, { recursive: true, force: true });
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function compare(base: string, label: string, candidate: (dir: string) => Promise<void>, baseline: (dir: string) => Promise<void>, target: number): Promise<void> {
  const ratios: number[] = [];
  let lsmMs = 0;
  for (let r = 0; r < REPS; r++) {
    // Interleaved, alternating which side runs first.
    let a: number, b: number;
    if (r % 2) {
      b = await timed(base, 'baseline', baseline);
      a = await timed(base, 'lsm', candidate);
    } else {
      a = await timed(base, 'lsm', candidate);
      b = await timed(base, 'baseline', baseline);
    }
    lsmMs += a;
    ratios.push(b / a);
  }
  const min = Math.min(...ratios);
  console.log(
    `${label.padEnd(64)} min ${min.toFixed(2)}x  median ${median(ratios).toFixed(2)}x  (target >= ${target}x; LSM ${Math.round((ORDERS * REPS * 1000) / lsmMs)} ops/s)`,
  );
}

const base = await mkdtemp(join(tmpdir(), 'stateshift-lsm-bench-'));
try {
  // Warm-up: both sides once, unmeasured.
  for (const fn of [ordersLsm, ordersRawBatched, listLsm, listRaw]) await timed(base, 'warm-up', fn);
  console.log(`${ORDERS} operations per run, ${REPS} interleaved repetitions; ratio = baseline time / LSM time`);
  await compare(base, 'orders loop vs raw classic-level, getSync + a batch per 100', ordersLsm, ordersRawBatched, 0.7);
  await compare(base, 'orders loop vs raw classic-level, getSync + a chained batch per 100', ordersLsm, ordersRawChained, 0.7);
  await compare(base, 'orders loop vs raw classic-level, awaited one by one', ordersLsm, ordersRawAwaited, 2);
  await compare(base, 'list get + trim to 10 + update vs raw classic-level', listLsm, listRaw, 0.5);
} finally {
  await rm(base, { recursive: true, force: true });
}
