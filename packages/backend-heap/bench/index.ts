/** Heap state get and update against a plain Map holding the same counts. */
import { runSuite } from '@stateshift/bench';
import { defineJob, int64, operator, string, valueState } from '@stateshift/core';
import { openHeapBackend } from '../src/index.js';

const KEYS = 10_000;
const job = defineJob({ name: 'bench', maxParallelism: 128, operators: [operator({ uid: 'op', key: string(), states: [valueState('count', int64())] })] });
const backend = await openHeapBackend({ job });
const count = backend.operator<string>('op').value<bigint>('count');
const map = new Map<string, bigint>();
const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`);
for (const k of keys) {
  await count.set(k, 0n);
  map.set(k, 0n);
}

await runSuite('backend-heap', [
  {
    name: `get x${KEYS}`,
    baseline: 'Map.get',
    cases: {
      'Map.get': { items: KEYS, fn: () => keys.forEach((k) => map.get(k)) },
      'heap value get': { items: KEYS, fn: async () => { for (const k of keys) await count.get(k); } },
    },
  },
  {
    name: `update x${KEYS}`,
    baseline: 'Map get+set',
    cases: {
      'Map get+set': { items: KEYS, fn: () => keys.forEach((k) => map.set(k, (map.get(k) ?? 0n) + 1n)) },
      'heap value update': { items: KEYS, fn: async () => { for (const k of keys) await count.update(k, (c) => (c ?? 0n) + 1n); } },
    },
  },
]);
