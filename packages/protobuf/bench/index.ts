/**
 * protobuf against raw protobufjs doing the same work: the same orders written delimited (varint
 * length, then the message) one after another into one output, and read back from it. protobufjs
 * gets one Writer for all of them (`encodeDelimited(message, writer)`, one `finish()` per batch)
 * and one Reader (`decodeDelimited(reader)`), so it allocates no Writer, Reader or Buffer per
 * value either. protobufjs uses number longs; stateshift bigint.
 * Runs the compiled code (tsconfig.bench.json), interleaved, printing min and median ratios.
 */
import { comparePairs } from '@stateshift/bench';
import { DataInput, DataOutput } from '@stateshift/core';
import protobufjs from 'protobufjs';
import { protobuf } from '../src/index.js';

const N = 1000;
const proto = 'syntax = "proto3"; message Order { string order_id = 1; string user_id = 2; int64 create_ts = 3; int32 qty = 4; repeated string tags = 5; }';
const ours = protobuf(proto, 'Order');
const Type = protobufjs.parse(proto, { keepCase: true }).root.lookupType('Order');
const orders = Array.from({ length: N }, (_, i) => ({ order_id: `o-${i}`, user_id: `u-${i % 97}`, create_ts: 1_700_000_000_000n + BigInt(i), qty: i % 10, tags: i % 2 ? ['web'] : [] }));
const messages = orders.map((o) => ({ ...o, create_ts: Number(o.create_ts) }));
const out = new DataOutput(64 * 1024);
for (const o of orders) ours.serialize(o, out);
const bytes = out.toBytes();
const writer = protobufjs.Writer.create();
for (const m of messages) Type.encodeDelimited(m, writer);
if (!Buffer.from(writer.finish()).equals(Buffer.from(bytes))) throw new Error('protobufjs and stateshift wrote different bytes');

comparePairs('protobuf', [
  {
    name: `serialize x${N} orders`,
    items: N,
    target: 0.95,
    baseline: {
      name: 'protobufjs encodeDelimited',
      fn: () => {
        const w = protobufjs.Writer.create();
        for (const m of messages) Type.encodeDelimited(m, w);
        w.finish();
      },
    },
    candidate: { name: 'protobuf serialize', fn: () => { out.reset(); for (const o of orders) ours.serialize(o, out); } },
  },
  {
    name: `deserialize x${N} orders`,
    items: N,
    target: 0.95,
    baseline: { name: 'protobufjs decodeDelimited', fn: () => { const r = protobufjs.Reader.create(bytes); for (let i = 0; i < N; i++) Type.decodeDelimited(r); } },
    candidate: { name: 'protobuf deserialize', fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) ours.deserialize(input); } },
  },
]);
