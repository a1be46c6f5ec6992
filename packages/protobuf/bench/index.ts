/** protobuf against raw protobufjs encode/decode of the same order messages. */
import { runSuite } from '@stateshift/bench';
import { DataInput, DataOutput } from '@stateshift/core';
import protobufjs from 'protobufjs';
import { protobuf } from '../src/index.js';

const N = 1000;
const proto = 'syntax = "proto3"; message Order { string order_id = 1; string user_id = 2; int64 create_ts = 3; int32 qty = 4; }';
const ours = protobuf(proto, 'Order');
const Type = protobufjs.parse(proto, { keepCase: true }).root.lookupType('Order');
const orders = Array.from({ length: N }, (_, i) => ({ order_id: `o-${i}`, user_id: `u-${i % 97}`, create_ts: 1_700_000_000_000n + BigInt(i), qty: i % 10 }));
const messages = orders.map((o) => Type.create({ ...o, create_ts: Number(o.create_ts) }));
const encoded = messages.map((m) => Type.encode(m).finish());
const out = new DataOutput();
for (const o of orders) ours.serialize(o, out);
const bytes = out.toBytes();

await runSuite('protobuf', [
  {
    name: `serialize x${N} orders`,
    baseline: 'protobufjs encode',
    target: 0.9,
    cases: {
      'protobufjs encode': { items: N, fn: () => messages.forEach((m) => Type.encode(m).finish()) },
      'protobuf serialize': { items: N, fn: () => { out.reset(); for (const o of orders) ours.serialize(o, out); } },
    },
  },
  {
    name: `deserialize x${N} orders`,
    baseline: 'protobufjs decode',
    target: 0.9,
    cases: {
      'protobufjs decode': { items: N, fn: () => encoded.forEach((b) => Type.decode(b)) },
      'protobuf deserialize': { items: N, fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) ours.deserialize(input); } },
    },
  },
]);
