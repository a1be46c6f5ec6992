/**
 * Built-in serializers against msgpackr pack/unpack on the same values, 1000 values per run, runs
 * interleaved. msgpackr writes another format, so this is a reference point, not a same-work
 * baseline: core is the codec here (there is no raw library beneath it to compare with). Encoding
 * writes into one reused buffer on both sides (msgpackr's pack reuses its own buffer too).
 */
import { runComparisons, type Comparison } from '@stateshift/bench';
import { Packr } from 'msgpackr';
import { DataInput, DataOutput, float64, int64, list, map, nullable, string, tuple, type Serializer } from '@stateshift/core';

const N = 1000;
/** Each timed run repeats the 1000 values this often, so a run takes tens of ms. */
const ROUNDS = 100;
const packr = new Packr({ useRecords: false, largeBigIntToFloat: false, useBigIntExtension: true } as ConstructorParameters<typeof Packr>[0]);

interface Subject {
  name: string;
  serializer: Serializer<unknown>;
  values: unknown[];
}

const subjects: Subject[] = [
  { name: 'string', serializer: string(), values: Array.from({ length: N }, (_, i) => `order-${i}-${'x'.repeat(i % 20)}`) },
  { name: 'int64', serializer: int64(), values: Array.from({ length: N }, (_, i) => BigInt(i) * 7919n - 100000n) },
  { name: 'list(float64)', serializer: list(float64()), values: Array.from({ length: N }, (_, i) => [i, i / 3, -i, 0.5]) },
  { name: 'map(string, int64)', serializer: map(string(), int64()), values: Array.from({ length: N }, (_, i) => new Map([['a', BigInt(i)], ['b', 2n]])) },
  { name: 'tuple(string, int64, float64)', serializer: tuple(string(), int64(), float64()), values: Array.from({ length: N }, (_, i) => [`u-${i}`, BigInt(i), i / 7]) },
  { name: 'nullable(string)', serializer: nullable(string()), values: Array.from({ length: N }, (_, i) => (i % 3 ? `v${i}` : null)) },
];

const comparisons: Comparison[] = subjects.flatMap(({ name, serializer, values }): Comparison[] => {
  const out = new DataOutput();
  for (const v of values) serializer.serialize(v, out);
  const ours = out.toBytes();
  const packed = values.map((v) => packr.pack(v));
  let sink: unknown;
  return [
    {
      name: `${name} encode`,
      items: N * ROUNDS,
      baseline: { name: 'msgpackr pack (reference)', run: () => { for (let r = 0; r < ROUNDS; r++) for (const v of values) sink = packr.pack(v); } },
      candidate: {
        name: 'stateshift',
        run: () => {
          for (let r = 0; r < ROUNDS; r++) {
            out.reset();
            for (const v of values) serializer.serialize(v, out);
          }
        },
      },
    },
    {
      name: `${name} decode`,
      items: N * ROUNDS,
      baseline: { name: 'msgpackr unpack (reference)', run: () => { for (let r = 0; r < ROUNDS; r++) for (const b of packed) sink = packr.unpack(b); } },
      candidate: {
        name: 'stateshift',
        run: () => {
          for (let r = 0; r < ROUNDS; r++) {
            const input = new DataInput(ours);
            for (let i = 0; i < N; i++) sink = serializer.deserialize(input);
          }
          void sink;
        },
      },
    },
  ];
});

await runComparisons('core', comparisons);
