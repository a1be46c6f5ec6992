/**
 * The order records the restore benchmarks load: version 1 of an Avro order, version 2 widening qty
 * and adding a field (a migration), and a savepoint of `n` orders written by version 1.
 */
import { join } from 'node:path';
import { defineJob, operator, string, valueState } from '@stateshift/core';
import { avro } from '@stateshift/avro';
import { openLsmBackend } from '@stateshift/backend-lsm';

const fields = [
  { name: 'orderId', type: 'string' },
  { name: 'userId', type: 'string' },
  { name: 'createTs', type: 'long' },
  { name: 'qty', type: 'int' },
];
export const v1Type = avro({ type: 'record', name: 'Order', fields });
export const v2Type = avro({ type: 'record', name: 'Order', fields: [...fields.slice(0, 3), { name: 'qty', type: 'long' }, { name: 'channel', type: 'string', default: 'web' }] });

function jobOf(type: typeof v1Type) {
  const last = valueState('last-order', type);
  const orders = operator({ uid: 'orders', key: string(), states: [last] });
  return { last, orders, job: defineJob({ name: 'orders', maxParallelism: 128, operators: [orders] }) };
}
export const v1 = jobOf(v1Type);
export const v2 = jobOf(v2Type);

const order = (i: number) => ({ orderId: `o-${i}`, userId: `u-${i}`, createTs: 1_700_000_000_000n + BigInt(i), qty: i % 10 });

/** Version 1 loads `n` orders (keys `u-0`...) under `base` and takes a savepoint; returns its location. */
export async function ordersSavepoint(base: string, n: number): Promise<string> {
  const loader = await openLsmBackend({ job: v1.job, dir: join(base, 'v1'), sync: false, writeBufferSize: 100_000 });
  const last = loader.operator(v1.orders).value(v1.last);
  for (let i = 0; i < n; i++) {
    last.set(`u-${i}`, order(i));
    if ((i + 1) % 50_000 === 0) await loader.checkpoint();
  }
  const savepoint = join(base, 'sp');
  await loader.savepoint(savepoint);
  await loader.close();
  return savepoint;
}
