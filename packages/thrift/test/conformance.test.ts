// The kit's shared tables: the value model every format reads and writes, and decoder fuzzing.
import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import { readSnapshot, DataInput, DataOutput, DecodeError, MAX_DEPTH, readerFor, resolveSchemaCompatibility, snapshotFromBytes, snapshotToBytes } from '@stateshift/core';
import { decoderFuzzSuite, encode, sampleValue, valuesSuite } from '@stateshift/core/testing';
import { thrift } from '../src/index.js';

const idl = `
enum Color { RED = 0, GREEN = 1, BLUE = 2 }
struct Child { 1: i32 x }
struct Sample {
  1: i64 id, 2: string name, 3: i32 count, 4: double ratio, 5: bool flag, 6: binary data, 7: Color color,
  8: list<string> tags, 9: map<string, i64> scores, 10: optional Child child, 11: optional string note,
  12: map<i64, string> ids, 13: set<string> labels
}`;
const supports = { int64MapKeys: true, sets: true };

for (const protocol of ['binary', 'compact'] as const) {
  const sample = () => thrift(idl, 'Sample', { protocol });
  valuesSuite({ test, name: `thrift ${protocol}`, factory: sample, supports });

  const samples = [encode(sample(), sampleValue(supports)), encode(sample(), sampleValue(supports, { child: null, note: null, tags: [] }))];
  decoderFuzzSuite({ test, fc, name: `thrift ${protocol} deserialize`, reader: sample, samples });

  // The other protocol and a widened field: the migrating reader runs.
  const other = protocol === 'binary' ? 'compact' : 'binary';
  const next = () => thrift(idl.replace('3: i32 count', '3: i64 count'), 'Sample', { protocol: other });
  decoderFuzzSuite({
    test,
    fc,
    name: `thrift ${protocol} readPrevious`,
    reader: () => readerFor(resolveSchemaCompatibility(next().snapshot(), snapshotFromBytes(snapshotToBytes(sample().snapshot()))), next()),
    samples,
  });

  const linked = thrift('struct Node { 1: i32 v, 2: optional Node next }', 'Node', { protocol });
  test(`thrift ${protocol}: recursive structs hundreds deep read back`, () => {
    let node: unknown = null;
    for (let i = 0; i < 500; i++) node = { v: i, next: node };
    const bytes = encode(linked, node);
    expect(encode(linked, linked.deserialize(new DataInput(bytes)))).toEqual(bytes);
  });

  test(`thrift ${protocol}: deeply nested unknown structs are a DecodeError naming depth and offset, not a stack overflow`, () => {
    // Field 9 (unknown to Node) holding a struct whose field 1 holds a struct, 100,000 levels deep.
    const out = new DataOutput();
    for (let i = 0; i < 100_000; i++) out.writeRaw(protocol === 'binary' ? new Uint8Array([12, 0, i ? 1 : 9]) : new Uint8Array([i ? 0x1c : 0x9c]));
    expect(() => linked.deserialize(new DataInput(out.toBytes()))).toThrow(new RegExp(`nested deeper than ${MAX_DEPTH} levels \\(at byte offset \\d+\\)`));
    expect(() => linked.deserialize(new DataInput(out.toBytes()))).toThrow(DecodeError);
  });

  test(`thrift ${protocol}: a container claiming 2^31-1 elements fails at once`, () => {
    const list = thrift('struct L { 1: list<i64> xs }', 'L', { protocol });
    const bytes = protocol === 'binary' ? [15, 0, 1, 10, 0x7f, 0xff, 0xff, 0xff, 0] : [0x19, 0xf6, 0xff, 0xff, 0xff, 0x07, 0];
    expect(() => list.deserialize(new DataInput(new Uint8Array(bytes)))).toThrow(DecodeError);
  });
}

test('thrift: a value that failed halfway does not disturb the next one (compact field ids)', () => {
  const s = thrift(idl, 'Sample', { protocol: 'compact' });
  const good = encode(s, sampleValue(supports));
  expect(() => s.deserialize(new DataInput(good.subarray(0, 30)))).toThrow(DecodeError);
  expect(s.deserialize(new DataInput(good))).toEqual(sampleValue(supports));
  expect(() => encode(s, sampleValue(supports, { child: { x: 'x' } }))).toThrow(/Sample\.child\.x/);
  expect(encode(s, sampleValue(supports))).toEqual(good);
});

decoderFuzzSuite({
  test,
  fc,
  name: 'thrift snapshot (readSnapshot)',
  reader: () => ({ deserialize: (input) => readSnapshot(input) }),
  samples: [snapshotToBytes(thrift(idl, 'Sample', { protocol: 'compact' }).snapshot())],
  numRuns: 100,
});
