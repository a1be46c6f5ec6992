// A user's job on core + protobuf + the LSM backend: write, savepoint, add a field, restore.
import { defineJob, operator, string, valueState } from '@stateshift/core';
import { protobuf } from '@stateshift/protobuf';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const v1Proto = 'syntax = "proto3"; message Order { string order_id = 1; double amount = 2; }';
const v2Proto = 'syntax = "proto3"; message Order { string order_id = 1; double amount = 2; string currency = 3; }';
const job = (proto) =>
  defineJob({
    name: 'orders',
    maxParallelism: 128,
    operators: [operator({ uid: 'orders', key: string(), states: [valueState('last-order', protobuf(proto, 'Order'))] })],
  });

const base = mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
const savepoint = path.join(base, 'savepoint-1');
const v1 = await openLsmBackend({ job: job(v1Proto), dir: path.join(base, 'db-1') });
await v1.operator('orders').value('last-order').set('alice', { order_id: 'o-1', amount: 12.5 });
await v1.savepoint(savepoint);
await v1.close();

const v2 = await openLsmBackend({ job: job(v2Proto), dir: path.join(base, 'db-2'), restoreFrom: savepoint });
const order = await v2.operator('orders').value('last-order').get('alice');
await v2.close();
if (order?.order_id !== 'o-1' || order.amount !== 12.5 || order.currency !== '') throw new Error(`restored ${JSON.stringify(order)}`);
console.log(JSON.stringify({ savepoint, order }));
