/**
 * avro against raw avsc doing the same work: the same orders encoded one after another into one
 * shared, preallocated output buffer (`Type#encode(value, buffer, offset)`, no Buffer per value)
 * and decoded back from it (`Type#decode(buffer, offset)`), raw Avro datums with no framing on
 * either side; migration through readPrevious against avsc's resolver on the same bytes. avsc uses
 * its own number longs, as an avsc user would; stateshift reads and writes bigint.
 * Runs the compiled code (tsconfig.bench.json), interleaved, printing min and median ratios.
 */
import { comparePairs } from '@stateshift/bench';
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
    { name: 'tags', type: { type: 'map', values: 'string' } },
    { name: 'note', type: ['null', 'string'] },
  ],
};
const v2Schema = { ...v1Schema, fields: [...v1Schema.fields.slice(0, 3), { name: 'qty', type: 'long' }, ...v1Schema.fields.slice(4), { name: 'channel', type: 'string', default: 'web' }] };
const v1 = avro(v1Schema as unknown as AvroSchema);
const v2 = avro(v2Schema as unknown as AvroSchema);
const raw1 = avsc.Type.forSchema(v1Schema as unknown as avsc.Schema);
const raw2 = avsc.Type.forSchema(v2Schema as unknown as avsc.Schema);
const rawResolver = raw2.createResolver(raw1);

const orders = Array.from({ length: N }, (_, i) => ({
  orderId: `o-${i}`,
  userId: `u-${i % 97}`,
  createTs: 1_700_000_000_000n + BigInt(i),
  qty: i % 10,
  tags: new Map(i % 3 ? [['channel', 'web']] : []),
  note: i % 2 ? null : 'leave at the door',
}));
const rawOrders = orders.map((o) => ({ ...o, createTs: Number(o.createTs), tags: Object.fromEntries(o.tags) }));

const out = new DataOutput(64 * 1024);
for (const o of orders) v1.serialize(o, out);
const bytes = out.toBytes();
const shared = Buffer.alloc(64 * 1024);
let end = 0;
for (const o of rawOrders) end = raw1.encode(o, shared, end);
if (!Buffer.from(bytes).equals(shared.subarray(0, end))) throw new Error('avsc and stateshift wrote different bytes');
const migrate = readerFor(resolveSchemaCompatibility(v2.snapshot(), snapshotFromBytes(snapshotToBytes(v1.snapshot()))), v2);

comparePairs('avro', [
  {
    name: `serialize x${N} orders`,
    items: N,
    target: 0.95,
    baseline: { name: 'avsc encode', fn: () => { let pos = 0; for (const o of rawOrders) pos = raw1.encode(o, shared, pos); } },
    candidate: { name: 'avro serialize', fn: () => { out.reset(); for (const o of orders) v1.serialize(o, out); } },
  },
  {
    name: `deserialize x${N} orders`,
    items: N,
    target: 0.95,
    baseline: { name: 'avsc decode', fn: () => { let pos = 0; for (let i = 0; i < N; i++) pos = raw1.decode(shared, pos).offset; } },
    candidate: { name: 'avro deserialize', fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) v1.deserialize(input); } },
  },
  {
    name: `migrate x${N} orders (int > long, field added)`,
    items: N,
    baseline: { name: 'avsc resolver', fn: () => { let pos = 0; for (let i = 0; i < N; i++) pos = raw2.decode(shared, pos, rawResolver).offset; } },
    candidate: { name: 'avro readPrevious', fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) migrate.deserialize(input); } },
  },
]);
