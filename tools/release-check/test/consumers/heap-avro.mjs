// A user's job on core + avro + the heap backend: write, savepoint, add a field, restore.
import { defineJob, operator, string, valueState } from '@stateshift/core';
import { avro } from '@stateshift/avro';
import { openHeapBackend } from '@stateshift/backend-heap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const orderV1 = { type: 'record', name: 'Order', fields: [{ name: 'orderId', type: 'string' }, { name: 'amount', type: 'double' }] };
const orderV2 = { ...orderV1, fields: [...orderV1.fields, { name: 'currency', type: 'string', default: 'EUR' }] };
const job = (schema) =>
  defineJob({ name: 'orders', maxParallelism: 128, operators: [operator({ uid: 'orders', key: string(), states: [valueState('last-order', avro(schema))] })] });

const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'consumer-')), 'savepoint-1');
const v1 = await openHeapBackend({ job: job(orderV1) });
await v1.operator('orders').value('last-order').set('alice', { orderId: 'o-1', amount: 12.5 });
await v1.savepoint(dir);
await v1.close();

const v2 = await openHeapBackend({ job: job(orderV2), restoreFrom: dir });
const order = await v2.operator('orders').value('last-order').get('alice');
await v2.close();
if (order?.currency !== 'EUR' || order.orderId !== 'o-1') throw new Error(`restored ${JSON.stringify(order)}`);
console.log(JSON.stringify({ savepoint: dir, order }));
