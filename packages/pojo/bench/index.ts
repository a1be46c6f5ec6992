/**
 * pojo against raw msgpackr (records on, the fastest msgpackr mode) on the same order objects,
 * and migration through readPrevious (a field added, a field widened) against a plain read.
 */
import { runSuite } from '@stateshift/bench';
import { DataInput, DataOutput, int32, int64, readerFor, resolveSchemaCompatibility, snapshotFromBytes, snapshotToBytes, string } from '@stateshift/core';
import { Packr } from 'msgpackr';
import { pojo } from '../src/index.js';

const N = 1000;
const v1 = pojo('Order', { orderId: string(), userId: string(), createTs: int64(), qty: int32() });
const v2 = pojo('Order', { orderId: string(), userId: string(), createTs: int64(), qty: int64(), channel: { serializer: string(), default: 'web' } });
const orders = Array.from({ length: N }, (_, i) => ({ orderId: `o-${i}`, userId: `u-${i % 97}`, createTs: 1_700_000_000_000n + BigInt(i), qty: i % 10 }));

const packr = new Packr({ useRecords: true, useBigIntExtension: true } as ConstructorParameters<typeof Packr>[0]);
const packed = orders.map((o) => packr.pack(o));
const out = new DataOutput();
for (const o of orders) v1.serialize(o, out);
const bytes = out.toBytes();
const verdict = resolveSchemaCompatibility(v2.snapshot(), snapshotFromBytes(snapshotToBytes(v1.snapshot())));
const migrate = readerFor(verdict, v2);
const bytesPerOrder = bytes.length / N;

await runSuite('pojo', [
  {
    name: `serialize x${N} orders`,
    baseline: 'msgpackr pack',
    target: 0.8,
    cases: {
      'msgpackr pack': { items: N, fn: () => orders.forEach((o) => packr.pack(o)) },
      'pojo serialize': {
        items: N,
        bytes: bytes.length,
        fn: () => {
          out.reset();
          for (const o of orders) v1.serialize(o, out);
        },
      },
    },
  },
  {
    name: `deserialize x${N} orders`,
    baseline: 'msgpackr unpack',
    target: 0.8,
    cases: {
      'msgpackr unpack': { items: N, fn: () => packed.forEach((b) => packr.unpack(b)) },
      'pojo deserialize': {
        items: N,
        bytes: bytes.length,
        fn: () => {
          const input = new DataInput(bytes);
          for (let i = 0; i < N; i++) v1.deserialize(input);
        },
      },
    },
  },
  {
    name: `migrate x${N} orders (field added, int32 > int64)`,
    baseline: 'pojo deserialize',
    cases: {
      'pojo deserialize': { items: N, fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) v1.deserialize(input); } },
      'readPrevious': { items: N, bytes: bytesPerOrder * N, fn: () => { const input = new DataInput(bytes); for (let i = 0; i < N; i++) migrate.deserialize(input); } },
    },
  },
]);
