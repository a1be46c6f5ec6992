/**
 * The LSM backend's state API against hand-written loops on raw classic-level doing the same work:
 * the same values encoded by the same serializers, the same reads (getSync, looking in the pending
 * batch first, as a hand-written loop must to see its own writes) and the same durability (one
 * LevelDB batch per 100 orders, unsynced on both sides). Runs the built package; runs interleave.
 *
 *   orders loop: per order, count += 1, last order = order, recent ids = last 10 (get, trim, update)
 *   list pattern: get + trim to 10 + update only
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runComparisons } from '@stateshift/bench';
import { DataInput, DataOutput, defineJob, int64, list, listState, operator, string, valueState, type Serializer } from '@stateshift/core';
import { pojo } from '@stateshift/pojo';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { ClassicLevel } from 'classic-level';

const USERS = 1000;
const ORDERS = Number(process.env.BENCH_ORDERS ?? 20_000);
const EVERY = 100;

const orderType = pojo('Order', { orderId: string(), userId: string(), createTs: int64() });
const count = valueState('count', int64());
const lastOrder = valueState('last-order', orderType);
const recent = listState('recent-order-ids', string());
const perUser = operator({ uid: 'orders-per-user', key: string(), states: [count, lastOrder, recent] });
const job = defineJob({ name: 'orders', maxParallelism: 128, operators: [perUser] });
const orderOf = (i: number) => ({ orderId: `o-${i}`, userId: `u-${i % USERS}`, createTs: 1_700_000_000_000n + BigInt(i) });

const base = await mkdtemp(join(tmpdir(), 'stateshift-lsm-bench-'));
try {
  const lsm = await openLsmBackend({ job, dir: join(base, 'lsm'), sync: false, writeBufferSize: 1_000_000 });
  const h = lsm.operator(perUser);
  const [counts, lasts, recents] = [h.value(count), h.value(lastOrder), h.list(recent)];
  let lsmNext = 0;
  const lsmOrders = async (n: number, withCountAndLast: boolean) => {
    for (let k = 0; k < n; k++) {
      const i = lsmNext++;
      const o = orderOf(i);
      if (withCountAndLast) {
        counts.update(o.userId, (c) => (c ?? 0n) + 1n);
        lasts.set(o.userId, o);
      }
      const ids = recents.get(o.userId);
      ids.push(o.orderId);
      recents.update(o.userId, ids.length > 10 ? ids.slice(-10) : ids);
      if ((k + 1) % EVERY === 0) await lsm.checkpoint();
    }
  };

  // The hand-written loops: the same values through the same serializers, keys as plain strings.
  const raw = new ClassicLevel<string, Uint8Array>(join(base, 'raw'), { valueEncoding: 'view' });
  await raw.open();
  const out = new DataOutput(256);
  const encode = (s: Serializer<unknown>, v: unknown) => {
    out.reset();
    s.serialize(v, out);
    return out.toBytes();
  };
  const ids = list(string());
  let pending = new Map<string, Uint8Array>();
  const read = (key: string) => pending.get(key) ?? raw.getSync(key);
  let rawNext = 0;
  const rawBatched = async (n: number, withCountAndLast: boolean) => {
    for (let k = 0; k < n; k++) {
      const i = rawNext++;
      const o = orderOf(i);
      if (withCountAndLast) {
        const c = read(`c/${o.userId}`);
        pending.set(`c/${o.userId}`, encode(int64(), (c ? (int64().deserialize(new DataInput(c)) as bigint) : 0n) + 1n));
        pending.set(`l/${o.userId}`, encode(orderType, o));
      }
      const r = read(`r/${o.userId}`);
      const list = r ? (ids.deserialize(new DataInput(r)) as string[]) : [];
      list.push(o.orderId);
      pending.set(`r/${o.userId}`, encode(ids, list.length > 10 ? list.slice(-10) : list));
      if ((k + 1) % EVERY === 0) {
        // The chained batch, as the backend writes a checkpoint.
        const batch = raw.batch();
        for (const [key, value] of pending) batch.put(key, value);
        pending = new Map();
        await batch.write();
      }
    }
  };
  const awaited = new ClassicLevel<string, Uint8Array>(join(base, 'awaited'), { valueEncoding: 'view' });
  await awaited.open();
  let awaitedNext = 0;
  const rawAwaited = async (n: number) => {
    for (let k = 0; k < n; k++) {
      const i = awaitedNext++;
      const o = orderOf(i);
      const c = await awaited.get(`c/${o.userId}`);
      await awaited.put(`c/${o.userId}`, encode(int64(), (c ? (int64().deserialize(new DataInput(c)) as bigint) : 0n) + 1n));
      await awaited.put(`l/${o.userId}`, encode(orderType, o));
      const r = await awaited.get(`r/${o.userId}`);
      const list = r ? (ids.deserialize(new DataInput(r)) as string[]) : [];
      list.push(o.orderId);
      await awaited.put(`r/${o.userId}`, encode(ids, list.length > 10 ? list.slice(-10) : list));
    }
  };

  await runComparisons('backend-lsm', [
    {
      name: `orders loop x${ORDERS} (${USERS} users)`,
      items: ORDERS,
      target: 0.7,
      baseline: { name: 'raw classic-level, one batch per 100 orders', run: () => rawBatched(ORDERS, true) },
      candidate: { name: 'lsm state API, a checkpoint per 100 orders', run: () => lsmOrders(ORDERS, true) },
    },
    {
      name: `orders loop x${ORDERS / 4} against awaited calls`,
      items: ORDERS / 4,
      target: 2,
      baseline: { name: 'raw classic-level, every call awaited', run: () => rawAwaited(ORDERS / 4) },
      candidate: { name: 'lsm state API, a checkpoint per 100 orders', run: () => lsmOrders(ORDERS / 4, true) },
    },
    {
      name: `list get + trim to 10 + update x${ORDERS}`,
      items: ORDERS,
      target: 0.5,
      baseline: { name: 'raw classic-level, one batch per 100', run: () => rawBatched(ORDERS, false) },
      candidate: { name: 'lsm list state, a checkpoint per 100', run: () => lsmOrders(ORDERS, false) },
    },
  ]);
  await lsm.close();
  await raw.close();
  await awaited.close();
} finally {
  await rm(base, { recursive: true, force: true });
}
