// The kit's shared tables: the value model every format reads and writes, and decoder fuzzing.
import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import { readSnapshot, DataInput, DataOutput, DecodeError, MAX_DEPTH, readerFor, resolveSchemaCompatibility, snapshotFromBytes, snapshotToBytes } from '@stateshift/core';
import { decoderFuzzSuite, encode, sampleValue, valuesSuite } from '@stateshift/core/testing';
import { avro } from '../src/index.js';

const sampleSchema = (extra: object[] = []) => ({
  type: 'record',
  name: 'Sample',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
    { name: 'count', type: 'int' },
    { name: 'ratio', type: 'double' },
    { name: 'flag', type: 'boolean' },
    { name: 'data', type: 'bytes' },
    { name: 'color', type: { type: 'enum', name: 'Color', symbols: ['RED', 'GREEN', 'BLUE'] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'scores', type: { type: 'map', values: 'long' } },
    { name: 'child', type: ['null', { type: 'record', name: 'Child', fields: [{ name: 'x', type: 'int' }] }] },
    { name: 'note', type: ['null', 'string'] },
    ...extra,
  ],
});
const sample = () => avro(sampleSchema() as never);

valuesSuite({ test, name: 'avro', factory: sample });

const samples = [encode(sample(), sampleValue()), encode(sample(), sampleValue({}, { child: null, note: null, tags: [], scores: new Map() }))];
decoderFuzzSuite({ test, fc, name: 'avro deserialize', reader: sample, samples });

const next = () => avro(sampleSchema([{ name: 'extra', type: { type: 'map', values: 'string' }, default: { a: 'b' } }]) as never);
const migrating = () => readerFor(resolveSchemaCompatibility(next().snapshot(), snapshotFromBytes(snapshotToBytes(sample().snapshot()))), next());
decoderFuzzSuite({ test, fc, name: 'avro readPrevious', reader: migrating, samples });

test('avro readPrevious: defaults are in the value model and fresh per value', () => {
  const reader = migrating();
  const a = reader.deserialize(new DataInput(samples[0])) as { extra: Map<string, string> };
  expect(a.extra).toEqual(new Map([['a', 'b']]));
  a.extra.set('c', 'd');
  expect((reader.deserialize(new DataInput(samples[0])) as { extra: Map<string, string> }).extra).toEqual(new Map([['a', 'b']]));
});

test('avro: an array block claiming 2^31-1 items in a 5-byte value fails at once', () => {
  const array = avro({ type: 'array', items: 'null' } as never);
  const bytes = new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0x0f]);
  expect(() => array.deserialize(new DataInput(bytes))).toThrow(DecodeError);
  expect(() => avro({ type: 'array', items: 'long' } as never).deserialize(new DataInput(bytes))).toThrow(/claims 2147483647 items/);
  expect(() => avro({ type: 'map', values: 'null' } as never).deserialize(new DataInput(bytes))).toThrow(DecodeError);
});

const linked = { type: 'record', name: 'Node', fields: [{ name: 'v', type: 'int' }, { name: 'next', type: ['null', 'Node'] }] };
function chain(n: number): unknown {
  let node: unknown = null;
  for (let i = 0; i < n; i++) node = { v: i, next: node };
  return node;
}

test('avro: a recursive type nested hundreds deep reads back; deeper is a DecodeError naming depth and offset', () => {
  const s = avro(linked as never);
  const ok = encode(s, chain(500));
  expect(encode(s, s.deserialize(new DataInput(ok)))).toEqual(ok);
  // Bytes of a chain deeper than the limit, written by hand (writing it would recurse as deep).
  const out = new DataOutput();
  for (let i = 0; i < MAX_DEPTH + 10; i++) out.writeRaw(new Uint8Array([0, 2]));
  out.writeRaw(new Uint8Array([0, 0]));
  expect(() => s.deserialize(new DataInput(out.toBytes()))).toThrow(/nested deeper than \d+ levels \(at byte offset \d+\)/);
  const v2 = avro({ ...linked, fields: [...linked.fields, { name: 'w', type: 'long', default: 0 }] } as never);
  const read = readerFor(resolveSchemaCompatibility(v2.snapshot(), snapshotFromBytes(snapshotToBytes(s.snapshot()))), v2);
  expect(() => read.deserialize(new DataInput(out.toBytes()))).toThrow(DecodeError);
});

decoderFuzzSuite({
  test,
  fc,
  name: 'avro snapshot (readSnapshot)',
  reader: () => ({ deserialize: (input) => readSnapshot(input) }),
  samples: [snapshotToBytes(sample().snapshot())],
  numRuns: 100,
});
