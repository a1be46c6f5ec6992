// The kit's shared tables: the value model every format reads and writes, and decoder fuzzing.
import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import { readSnapshot, DataInput, DataOutput, DecodeError, MAX_DEPTH, readerFor, resolveSchemaCompatibility, snapshotFromBytes, snapshotToBytes } from '@stateshift/core';
import { decoderFuzzSuite, encode, sampleValue, valuesSuite } from '@stateshift/core/testing';
import { protobuf } from '../src/index.js';

const proto = (count = 'int32') => `syntax = "proto3";
enum Color { RED = 0; GREEN = 1; BLUE = 2; }
message Child { int32 x = 1; }
message Sample {
  int64 id = 1; string name = 2; ${count} count = 3; double ratio = 4; bool flag = 5; bytes data = 6; Color color = 7;
  repeated string tags = 8; map<string, int64> scores = 9; Child child = 10; optional string note = 11; map<int64, string> ids = 12;
}`;
const supports = { int64MapKeys: true };
const sample = () => protobuf(proto(), 'Sample');

valuesSuite({ test, name: 'protobuf', factory: sample, supports });

const samples = [encode(sample(), sampleValue(supports)), encode(sample(), sampleValue(supports, { child: null, note: null, tags: [] }))];
decoderFuzzSuite({ test, fc, name: 'protobuf deserialize', reader: sample, samples });

// int32 to sint64: the bytes differ, so the migrating reader runs.
const next = () => protobuf(proto('sint64'), 'Sample');
const migrating = () => readerFor(resolveSchemaCompatibility(next().snapshot(), snapshotFromBytes(snapshotToBytes(sample().snapshot()))), next());
decoderFuzzSuite({ test, fc, name: 'protobuf readPrevious', reader: migrating, samples });

test('protobuf readPrevious: map keys keep their types', () => {
  const value = migrating().deserialize(new DataInput(samples[0])) as { ids: Map<bigint, string>; count: bigint };
  expect(value.ids).toEqual(new Map([[5n, 'five'], [-(1n << 63n), 'min']]));
  expect(value.count).toBe(3n);
});

const linked = protobuf('syntax = "proto3"; message Node { int32 v = 1; Node next = 2; }', 'Node');

test('protobuf: a recursive message hundreds deep reads back; deeper is a DecodeError naming depth and offset', () => {
  let node: unknown = null;
  for (let i = 0; i < 500; i++) node = { v: i, next: node };
  const bytes = encode(linked, node);
  expect(encode(linked, linked.deserialize(new DataInput(bytes)))).toEqual(bytes);
  // Nested groups of an unknown field, 100,000 deep (written by hand).
  const out = new DataOutput();
  const body = new Uint8Array(200_000).map((_, i) => (i < 100_000 ? 0x1b : 0x1c)); // field 3: start group / end group
  out.writeVarUint(body.length);
  out.writeRaw(body);
  expect(() => linked.deserialize(new DataInput(out.toBytes()))).toThrow(new RegExp(`nested deeper than ${MAX_DEPTH} levels \\(at byte offset \\d+\\)`));
});

test('protobuf: lengths beyond the input fail at once', () => {
  expect(() => linked.deserialize(new DataInput(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12])))).toThrow(DecodeError);
  // A nested message whose length runs past its parent.
  expect(() => linked.deserialize(new DataInput(new Uint8Array([4, 0x12, 0x7f, 0x08, 0x01])))).toThrow(DecodeError);
});

test('protobuf: a Map given to a map field is written; a plain object is refused', () => {
  const s = sample();
  expect((s.deserialize(new DataInput(encode(s, sampleValue(supports)))) as { scores: Map<string, bigint> }).scores).toEqual(new Map([['x', 1n], ['y', -2n]]));
  expect(() => encode(s, sampleValue(supports, { scores: { x: 1n } }))).toThrow(/Sample\.scores: expected a Map/);
});

test('protobuf: two members of one oneof set are refused; unknown enum numbers round-trip', () => {
  const s = protobuf('syntax = "proto3"; enum E { A = 0; B = 1; } message M { oneof o { string a = 1; int32 b = 2; } E e = 3; }', 'M');
  expect(() => encode(s, { a: 'x', b: 1, e: 'A' })).toThrow(/oneof o has more than one member set/);
  expect(s.deserialize(new DataInput(encode(s, { a: null, b: 1, e: 7 })))).toEqual({ a: null, b: 1, e: 7 });
  expect(() => encode(s, { a: null, b: 1, e: 1 })).toThrow(/M\.e: expected a symbol of enum E/);
});

decoderFuzzSuite({
  test,
  fc,
  name: 'protobuf snapshot (readSnapshot)',
  reader: () => ({ deserialize: (input) => readSnapshot(input) }),
  samples: [snapshotToBytes(sample().snapshot())],
  numRuns: 100,
});
