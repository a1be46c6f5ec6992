/**
 * Heap state against a plain Map holding the same values under the same keys, both called the same
 * way (synchronously, one call per key). Runs the built package.
 */
import { runComparisons } from '@stateshift/bench';
import { defineJob, int64, operator, string, valueState } from '@stateshift/core';
import { pojo } from '@stateshift/pojo';
import { openHeapBackend } from '@stateshift/backend-heap';

const KEYS = 100_000;
const count = valueState('count', int64());
const order = valueState('order', pojo('Order', { orderId: string(), userId: string(), createTs: int64() }));
const op = operator({ uid: 'op', key: string(), states: [count, order] });
const job = defineJob({ name: 'bench', maxParallelism: 128, operators: [op] });
const backend = await openHeapBackend({ job });
const counts = backend.operator(op).value(count);
const orders = backend.operator(op).value(order);
const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`);
const objects = keys.map((k, i) => ({ orderId: `o-${i}`, userId: k, createTs: BigInt(i) }));
const countMap = new Map<string, bigint>();
const orderMap = new Map<string, (typeof objects)[number]>();
keys.forEach((k, i) => {
  counts.set(k, BigInt(i));
  countMap.set(k, BigInt(i));
  orders.set(k, objects[i]);
  orderMap.set(k, objects[i]);
});

let sink: unknown;
await runComparisons('backend-heap', [
  {
    name: `value get (bigint) x${KEYS}`,
    items: KEYS,
    target: 0.2,
    baseline: { name: 'Map.get', run: () => { for (const k of keys) sink = countMap.get(k); } },
    candidate: { name: 'heap get', run: () => { for (const k of keys) sink = counts.get(k); } },
  },
  {
    name: `value set (bigint) x${KEYS}`,
    items: KEYS,
    target: 0.1,
    baseline: { name: 'Map.set', run: () => { for (let i = 0; i < KEYS; i++) countMap.set(keys[i], BigInt(i)); } },
    candidate: { name: 'heap set', run: () => { for (let i = 0; i < KEYS; i++) counts.set(keys[i], BigInt(i)); } },
  },
  {
    name: `value get (pojo object) x${KEYS}`,
    items: KEYS,
    target: 0.2,
    baseline: { name: 'Map.get', run: () => { for (const k of keys) sink = orderMap.get(k); } },
    candidate: { name: 'heap get', run: () => { for (const k of keys) sink = orders.get(k); } },
  },
  {
    name: `value set (pojo object) x${KEYS}`,
    items: KEYS,
    target: 0.1,
    baseline: { name: 'Map.set', run: () => { for (let i = 0; i < KEYS; i++) orderMap.set(keys[i], objects[i]); } },
    candidate: { name: 'heap set', run: () => { for (let i = 0; i < KEYS; i++) orders.set(keys[i], objects[i]); } },
  },
]);
void sink;
await backend.close();
