// The kit's shared tables: the value model every format reads and writes, and decoder fuzzing.
import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import { readSnapshot, DataInput, DecodeError, MAX_DEPTH, boolean, bytes, enumeration, float64, int32, int64, list, map, nullable, readerFor, resolveSchemaCompatibility, snapshotFromBytes, snapshotToBytes, string, type Serializer } from '@stateshift/core';
import { decoderFuzzSuite, encode, sampleValue, valuesSuite } from '@stateshift/core/testing';
import { pojo } from '../src/index.js';

const fields = {
  id: int64(),
  name: string(),
  count: int32(),
  ratio: float64(),
  flag: boolean(),
  data: bytes(),
  color: enumeration('Color', ['RED', 'GREEN', 'BLUE']),
  tags: list(string()),
  scores: map(string(), int64()),
  child: nullable(pojo('Child', { x: int32() })),
  note: nullable(string()),
  ids: map(int64(), string()),
};
const sample = () => pojo('Sample', fields);

valuesSuite({ test, name: 'pojo', factory: sample, supports: { int64MapKeys: true } });

const samples = [encode(sample(), sampleValue({ int64MapKeys: true })), encode(sample(), sampleValue({ int64MapKeys: true }, { child: null, note: null, tags: [] }))];
decoderFuzzSuite({ test, fc, name: 'pojo deserialize', reader: sample, samples });

// readPrevious: a field added and one widened, so the migrating reader runs.
const next = () => pojo('Sample', { ...fields, count: int64(), extra: { serializer: string(), default: '-' } });
decoderFuzzSuite({
  test,
  fc,
  name: 'pojo readPrevious',
  reader: () => readerFor(resolveSchemaCompatibility(next().snapshot(), snapshotFromBytes(snapshotToBytes(sample().snapshot()))), next()),
  samples,
});

test('pojo: records nested hundreds deep read back; deeper is a DecodeError', () => {
  const nest = (depth: number) => {
    let s: Serializer<unknown> = pojo('Leaf', { x: int32() });
    let v: unknown = { x: 1 };
    for (let i = 0; i < depth; i++) {
      s = pojo('Node', { inner: s });
      v = { inner: v };
    }
    return { s, v };
  };
  const ok = nest(300);
  expect(ok.s.deserialize(new DataInput(encode(ok.s, ok.v)))).toEqual(ok.v);
  const deep = nest(MAX_DEPTH + 1);
  expect(() => deep.s.deserialize(new DataInput(encode(deep.s, deep.v)))).toThrow(DecodeError);
});

decoderFuzzSuite({
  test,
  fc,
  name: 'pojo snapshot (readSnapshot)',
  reader: () => ({ deserialize: (input) => readSnapshot(input) }),
  samples: [snapshotToBytes(sample().snapshot())],
  numRuns: 100,
});
