/**
 * thrift against the thrift npm package's protocols writing and reading the same structs, called
 * field by field as its generated code does, all values into one transport and read back from one
 * (no framing on either side). Runs the compiled code (tsconfig.bench.json), interleaved, printing
 * min and median ratios.
 */
import { comparePairs } from '@stateshift/bench';
import { DataInput, DataOutput } from '@stateshift/core';
import thriftLib from 'thrift';
import { thrift } from '../src/index.js';

const N = 1000;
const idl = 'struct Order { 1: string orderId, 2: string userId, 3: i64 createTs, 4: i32 qty }';
const orders = Array.from({ length: N }, (_, i) => ({ orderId: `o-${i}`, userId: `u-${i % 97}`, createTs: 1_700_000_000_000n + BigInt(i), qty: i % 10 }));
const { Type } = thriftLib.Thrift;

for (const [protocol, Protocol] of [['binary', thriftLib.TBinaryProtocol], ['compact', thriftLib.TCompactProtocol]] as const) {
  const ours = thrift(idl, 'Order', { protocol });
  const out = new DataOutput();
  for (const o of orders) ours.serialize(o, out);
  const bytes = out.toBytes();
  // What generated code does: one protocol call per field.
  const write = () => {
    let written: Buffer[] = [];
    const transport = new thriftLib.TBufferedTransport(undefined, (b?: Buffer) => void written.push(b!));
    const p = new Protocol(transport);
    for (const o of orders) {
      p.writeStructBegin('Order');
      p.writeFieldBegin('orderId', Type.STRING, 1);
      p.writeString(o.orderId);
      p.writeFieldEnd();
      p.writeFieldBegin('userId', Type.STRING, 2);
      p.writeString(o.userId);
      p.writeFieldEnd();
      p.writeFieldBegin('createTs', Type.I64, 3);
      p.writeI64(new thriftLib.Int64(Number(o.createTs)));
      p.writeFieldEnd();
      p.writeFieldBegin('qty', Type.I32, 4);
      p.writeI32(o.qty);
      p.writeFieldEnd();
      p.writeFieldStop();
      p.writeStructEnd();
    }
    transport.flush();
    written = [];
  };
  const read = () => {
    const transport = new thriftLib.TFramedTransport(Buffer.from(bytes));
    const p = new Protocol(transport);
    for (let i = 0; i < N; i++) {
      p.readStructBegin();
      const o: Record<string, unknown> = {};
      for (;;) {
        const f = p.readFieldBegin();
        if (f.ftype === Type.STOP) break;
        if (f.fid === 1) o.orderId = p.readString();
        else if (f.fid === 2) o.userId = p.readString();
        else if (f.fid === 3) o.createTs = p.readI64();
        else if (f.fid === 4) o.qty = p.readI32();
        else p.skip(f.ftype);
        p.readFieldEnd();
      }
      p.readStructEnd();
    }
  };
  comparePairs(`thrift-${protocol}`, [
    {
      name: `${protocol}: write x${N} orders`,
      items: N,
      target: 0.95,
      baseline: { name: 'thrift npm protocol', fn: write },
      candidate: { name: 'stateshift thrift', fn: () => { out.reset(); for (const o of orders) ours.serialize(o, out); } },
    },
    {
      name: `${protocol}: read x${N} orders`,
      items: N,
      target: 0.95,
      baseline: { name: 'thrift npm protocol', fn: read },
      candidate: { name: 'stateshift thrift', fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) ours.deserialize(input); } },
    },
  ]);
}
