/**
 * Built-in serializers against JSON.stringify/parse and msgpackr pack/unpack on the same values:
 * encode and decode throughput of 1000 values per call, as ratios to msgpackr.
 */
import { runSuite, type BenchGroup } from '@stateshift/bench';
import { Packr } from 'msgpackr';
import { DataInput, DataOutput, float64, int64, list, map, nullable, string, tuple, type Serializer } from '../src/index.js';

const N = 1000;
const packr = new Packr({ useRecords: false, largeBigIntToFloat: false, useBigIntExtension: true } as ConstructorParameters<typeof Packr>[0]);
const jsonReplacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v);

interface Subject<T> {
  name: string;
  serializer: Serializer<T>;
  values: T[];
}

const subjects: Subject<any>[] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
  { name: 'string', serializer: string(), values: Array.from({ length: N }, (_, i) => `order-${i}-${'x'.repeat(i % 20)}`) },
  { name: 'int64', serializer: int64(), values: Array.from({ length: N }, (_, i) => BigInt(i) * 7919n - 100000n) },
  { name: 'list(float64)', serializer: list(float64()), values: Array.from({ length: N }, (_, i) => [i, i / 3, -i, 0.5]) },
  { name: 'map(string, int64)', serializer: map(string(), int64()), values: Array.from({ length: N }, (_, i) => new Map([['a', BigInt(i)], ['b', 2n]])) },
  { name: 'tuple(string, int64, float64)', serializer: tuple(string(), int64(), float64()), values: Array.from({ length: N }, (_, i) => [`u-${i}`, BigInt(i), i / 7]) },
  { name: 'nullable(string)', serializer: nullable(string()), values: Array.from({ length: N }, (_, i) => (i % 3 ? `v${i}` : null)) },
];

const groups: BenchGroup[] = subjects.flatMap(({ name, serializer, values }): BenchGroup[] => {
  const out = new DataOutput();
  for (const v of values) serializer.serialize(v, out);
  const ours = out.toBytes();
  const packed = values.map((v) => packr.pack(v));
  const json = values.map((v) => JSON.stringify(v, jsonReplacer));
  return [
    {
      name: `${name} encode x${N}`,
      baseline: 'msgpackr pack',
      cases: {
        'msgpackr pack': { items: N, fn: () => values.forEach((v) => packr.pack(v)) },
        'JSON.stringify': { items: N, fn: () => values.forEach((v) => JSON.stringify(v, jsonReplacer)) },
        stateshift: {
          items: N,
          fn: () => {
            out.reset();
            for (const v of values) serializer.serialize(v, out);
          },
        },
      },
    },
    {
      name: `${name} decode x${N}`,
      baseline: 'msgpackr unpack',
      cases: {
        'msgpackr unpack': { items: N, fn: () => packed.forEach((b) => packr.unpack(b)) },
        'JSON.parse': { items: N, fn: () => json.forEach((s) => JSON.parse(s)) },
        stateshift: {
          items: N,
          fn: () => {
            const input = new DataInput(ours);
            for (let i = 0; i < N; i++) serializer.deserialize(input);
          },
        },
      },
    },
  ];
});

await runSuite('core', groups);
