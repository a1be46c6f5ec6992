/** avro against raw avsc toBuffer/fromBuffer on the same orders, and migration against avsc's resolver by hand. */
import { runSuite } from '@stateshift/bench';
import { DataInput, DataOutput, readerFor, resolveSchemaCompatibility, snapshotFromBytes, snapshotToBytes } from '@stateshift/core';
import avsc from 'avsc';
import { avro, type AvroSchema } from '../src/index.js';

const N = 1000;
const v1Schema = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'userId', type: 'string' },
    { name: 'createTs', type: 'long' },
    { name: 'qty', type: 'int' },
  ],
};
const v2Schema = { ...v1Schema, fields: [...v1Schema.fields.slice(0, 3), { name: 'qty', type: 'long' }, { name: 'channel', type: 'string', default: 'web' }] };
const v1 = avro(v1Schema as unknown as AvroSchema);
const v2 = avro(v2Schema as unknown as AvroSchema);
// The raw baseline uses avsc's own long (numbers), as an avsc user would.
const raw1 = avsc.Type.forSchema(v1Schema as unknown as avsc.Schema);
const raw2 = avsc.Type.forSchema(v2Schema as unknown as avsc.Schema);
const rawResolver = raw2.createResolver(raw1);
const orders = Array.from({ length: N }, (_, i) => ({ orderId: `o-${i}`, userId: `u-${i % 97}`, createTs: 1_700_000_000_000n + BigInt(i), qty: i % 10 }));
const rawOrders = orders.map((o) => ({ ...o, createTs: Number(o.createTs) }));
const rawBuffers = rawOrders.map((o) => raw1.toBuffer(o));
const out = new DataOutput();
for (const o of orders) v1.serialize(o, out);
const bytes = out.toBytes();
const migrate = readerFor(resolveSchemaCompatibility(v2.snapshot(), snapshotFromBytes(snapshotToBytes(v1.snapshot()))), v2);

await runSuite('avro', [
  {
    name: `serialize x${N} orders`,
    baseline: 'avsc toBuffer',
    target: 0.9,
    cases: {
      'avsc toBuffer': { items: N, fn: () => rawOrders.forEach((o) => raw1.toBuffer(o)) },
      'avro serialize': { items: N, bytes: bytes.length, fn: () => { out.reset(); for (const o of orders) v1.serialize(o, out); } },
    },
  },
  {
    name: `deserialize x${N} orders`,
    baseline: 'avsc fromBuffer',
    target: 0.9,
    cases: {
      'avsc fromBuffer': { items: N, fn: () => rawBuffers.forEach((b) => raw1.fromBuffer(b)) },
      'avro deserialize': { items: N, bytes: bytes.length, fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) v1.deserialize(input); } },
    },
  },
  {
    name: `migrate x${N} orders (int > long, field added)`,
    baseline: 'avsc resolver by hand',
    target: 0.9,
    cases: {
      'avsc resolver by hand': { items: N, fn: () => rawBuffers.forEach((b) => raw2.fromBuffer(b, rawResolver)) },
      'avro readPrevious': { items: N, fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) migrate.deserialize(input); } },
    },
  },
]);
