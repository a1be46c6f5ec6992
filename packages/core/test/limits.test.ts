// Decoders stay within the input and the stack; strings are never changed on the way to UTF-8.
import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  DataInput,
  DataOutput,
  DecodeError,
  EncodeError,
  enumeration,
  int32,
  int64,
  list,
  map,
  MAX_DEPTH,
  nullable,
  readSnapshot,
  snapshotToBytes,
  string,
  tuple,
  utf8Length,
  type Serializer,
} from '../src/index.js';
import { decoderFuzzSuite, encode } from '../src/testing/index.js';

const catchError = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
};

test('lone surrogates are refused with an EncodeError, never replaced by U+FFFD', () => {
  for (const s of ['\uD800', 'a\uDBFFb', '\uDC00', 'x\uDFFF']) {
    expect(() => encode(string(), s)).toThrow(EncodeError);
    expect(() => new DataOutput().writeString(s)).toThrow(/lone surrogate/);
  }
  expect(() => encode(list(string()), ['ok', '\uD800'])).toThrow(/^\[1\]: string holds a lone surrogate/);
  expect(() => encode(map(string(), int32()), new Map([['\uD800', 1]]))).toThrow(EncodeError);
  // Paired surrogates and every other string are kept exactly.
  for (const s of ['😀', 'ü€', '\u0000', 'x'.repeat(200), '😀'.repeat(100)]) {
    expect(new DataInput(encode(string(), s)).readString()).toBe(s);
    expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
  }
});

test('property: utf8Length and writeString agree with TextEncoder on well-formed strings', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      const well = new TextDecoder().decode(new TextEncoder().encode(s)) === s;
      if (!well) {
        expect(() => utf8Length(s)).toThrow(EncodeError);
        return;
      }
      const bytes = encode(string(), s);
      expect(new DataInput(bytes).readString()).toBe(s);
    }),
  );
});

test('endLengthPrefixed moves a section whose length needs more than one byte', () => {
  for (const n of [0, 1, 127, 128, 300, 16384, 70000]) {
    const out = new DataOutput(16);
    out.writeUint8(9);
    const mark = out.beginLengthPrefixed();
    const inner = out.beginLengthPrefixed();
    for (let i = 0; i < n; i++) out.writeUint8(i & 0xff);
    out.endLengthPrefixed(inner);
    out.endLengthPrefixed(mark);
    out.writeUint8(7);
    const input = new DataInput(out.toBytes());
    expect(input.readUint8()).toBe(9);
    const outer = input.slice(input.readLength('outer'));
    const body = outer.readRaw(outer.readLength('inner'));
    expect(body.length).toBe(n);
    expect(body.every((b, i) => b === (i & 0xff))).toBe(true);
    expect(input.readUint8()).toBe(7);
  }
});

test('int64 varints read the same on the number fast path and the bigint path', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => {
      const out = new DataOutput();
      out.writeVarInt64(v);
      const bytes = out.toBytes();
      expect(new DataInput(bytes).readVarInt64()).toBe(v);
      const slow = new DataOutput();
      slow.writeVarUint64(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
      expect(slow.toBytes()).toEqual(bytes);
    }),
  );
});

/** `depth` lists in lists (or nullables, tuples, maps) around an int32. */
function nested(depth: number, wrap: (s: Serializer<unknown>) => Serializer<unknown>): Serializer<unknown> {
  let s: Serializer<unknown> = int32() as Serializer<unknown>;
  for (let i = 0; i < depth; i++) s = wrap(s);
  return s;
}
const wrappers: [string, (s: Serializer<unknown>) => Serializer<unknown>, (v: unknown) => unknown][] = [
  ['list', (s) => list(s) as Serializer<unknown>, (v) => [v]],
  ['nullable', (s) => nullable(s) as Serializer<unknown>, (v) => v],
  ['tuple', (s) => tuple(s) as Serializer<unknown>, (v) => [v]],
  ['map', (s) => map(int32(), s) as Serializer<unknown>, (v) => new Map([[1, v]])],
];

for (const [name, wrap, value] of wrappers) {
  test(`nested ${name}: ${MAX_DEPTH - 1} levels read back; deeper input is a DecodeError naming depth and offset`, () => {
    let v: unknown = 5;
    for (let i = 0; i < MAX_DEPTH - 1; i++) v = value(v);
    const ok = nested(MAX_DEPTH - 1, wrap);
    const bytes = encode(ok, v);
    // Compared by bytes written again: a deep equality check of 999 levels would itself overflow.
    expect(encode(ok, ok.deserialize(new DataInput(bytes)))).toEqual(bytes);
    const deep = nested(MAX_DEPTH + 5, wrap);
    let w: unknown = 5;
    for (let i = 0; i < MAX_DEPTH + 5; i++) w = value(w);
    const e = catchError(() => deep.deserialize(new DataInput(encode(deep, w))));
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).message).toMatch(new RegExp(`deeper than ${MAX_DEPTH} levels.*offset \\d+`));
  });
}

test('a huge count fails before allocating', () => {
  const out = new DataOutput();
  out.writeVarUint(2 ** 31 - 1);
  expect(() => list(int64()).deserialize(new DataInput(out.toBytes()))).toThrow(DecodeError);
  expect(() => map(int64(), int64()).deserialize(new DataInput(out.toBytes()))).toThrow(DecodeError);
  expect(() => new DataInput(new Uint8Array(3)).checkCount(4, 1, 'x')).toThrow(/claims 4 items/);
  expect(() => new DataInput(new Uint8Array(3)).checkCount(2 ** 21, 0, 'x')).toThrow(DecodeError);
  expect(new DataInput(new Uint8Array(3)).checkCount(3, 1, 'x')).toBe(3);
});

decoderFuzzSuite({
  test,
  fc,
  name: 'core composites',
  reader: () => tuple(list(map(string(), nullable(int64()))), enumeration('E', ['A', 'B'])),
  samples: [encode(tuple(list(map(string(), nullable(int64()))), enumeration('E', ['A', 'B'])), [[new Map([['k', 5n], ['n', null]])], 'B'])],
});

decoderFuzzSuite({
  test,
  fc,
  name: 'readSnapshot',
  reader: () => ({ deserialize: (input) => readSnapshot(input) }),
  samples: [
    snapshotToBytes(tuple(list(map(string(), nullable(int64()))), enumeration('E', ['A', 'B'])).snapshot()),
    snapshotToBytes(list(list(list(int32()))).snapshot()),
  ],
});

test('readSnapshot: snapshots nested beyond the depth limit are a DecodeError', () => {
  const bytes = snapshotToBytes(nested(MAX_DEPTH + 5, (s) => list(s) as Serializer<unknown>).snapshot());
  expect(() => readSnapshot(new DataInput(bytes))).toThrow(DecodeError);
});
