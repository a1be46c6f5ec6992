// Restores a savepoint whose state was written with an adapter this project did not install.
import { defineJob, operator, string, valueState } from '@stateshift/core';
import { avro } from '@stateshift/avro';
import { openHeapBackend } from '@stateshift/backend-heap';

const schema = { type: 'record', name: 'Order', fields: [{ name: 'orderId', type: 'string' }, { name: 'amount', type: 'double' }] };
const job = defineJob({
  name: 'orders',
  maxParallelism: 128,
  operators: [operator({ uid: 'orders', key: string(), states: [valueState('last-order', avro(schema))] })],
});
try {
  await openHeapBackend({ job, restoreFrom: process.argv[2] });
  console.log('restored');
} catch (error) {
  console.log(JSON.stringify({ name: error.name, message: error.message }));
}
