/**
 * pojo against the raw codec doing the same work: the same fields written with `DataOutput` calls
 * by hand (what the pojo serializer does per field, without its declarations, and the same refusal
 * of keys Order does not declare, a for-in over the value's keys) into the same shared output, and read back with `DataInput` calls into an object literal; migration through
 * readPrevious (a field added, a field widened) against a plain read.
 * Runs the compiled code (tsconfig.bench.json), interleaved, printing min and median ratios.
 */
import { comparePairs } from '@stateshift/bench';
import { DataInput, DataOutput, int32, int64, readerFor, resolveSchemaCompatibility, snapshotFromBytes, snapshotToBytes, string } from '@stateshift/core';
import { pojo } from '../src/index.js';

const N = 1000;
const v1 = pojo('Order', { orderId: string(), userId: string(), createTs: int64(), qty: int32() });
const v2 = pojo('Order', { orderId: string(), userId: string(), createTs: int64(), qty: int64(), channel: { serializer: string(), default: 'web' } });
const orders = Array.from({ length: N }, (_, i) => ({ orderId: `o-${i}`, userId: `u-${i % 97}`, createTs: 1_700_000_000_000n + BigInt(i), qty: i % 10 }));

const out = new DataOutput(64 * 1024);
for (const o of orders) v1.serialize(o, out);
const bytes = out.toBytes();
const raw = new DataOutput(64 * 1024);
const writeRaw = () => {
  raw.reset();
  for (const o of orders) {
    for (const k in o) {
      switch (k) {
        case 'orderId':
        case 'userId':
        case 'createTs':
        case 'qty':
          break;
        default:
          if ((o as Record<string, unknown>)[k] !== undefined) throw new Error(`Order has no field "${k}"`);
      }
    }
    raw.writeString(o.orderId);
    raw.writeString(o.userId);
    raw.writeVarInt64(o.createTs);
    raw.writeVarInt(o.qty);
  }
};
writeRaw();
if (!Buffer.from(raw.toBytes()).equals(Buffer.from(bytes))) throw new Error('the raw codec and pojo wrote different bytes');
const migrate = readerFor(resolveSchemaCompatibility(v2.snapshot(), snapshotFromBytes(snapshotToBytes(v1.snapshot()))), v2);

comparePairs('pojo', [
  {
    name: `serialize x${N} orders`,
    items: N,
    target: 0.95,
    baseline: { name: 'DataOutput by hand', fn: writeRaw },
    candidate: { name: 'pojo serialize', fn: () => { out.reset(); for (const o of orders) v1.serialize(o, out); } },
  },
  {
    name: `deserialize x${N} orders`,
    items: N,
    target: 0.95,
    baseline: {
      name: 'DataInput by hand',
      fn: () => {
        const input = new DataInput(bytes);
        for (let i = 0; i < N; i++) ({ orderId: input.readString(), userId: input.readString(), createTs: input.readVarInt64(), qty: input.readVarInt() });
      },
    },
    candidate: { name: 'pojo deserialize', fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) v1.deserialize(input); } },
  },
  {
    name: `migrate x${N} orders (field added, int32 > int64)`,
    items: N,
    baseline: { name: 'pojo deserialize', fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) v1.deserialize(input); } },
    candidate: { name: 'readPrevious', fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) migrate.deserialize(input); } },
  },
]);
