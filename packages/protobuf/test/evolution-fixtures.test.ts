/**
 * Schema evolution over bytes written by Debian's python3-protobuf (test/fixtures/make-fixtures.sh):
 * each case's stored messages (v1*.proto) are read through our rules as the new type (v2*.proto);
 * where python3-protobuf itself could read them as the new type, what it wrote back must read to
 * the same values.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { changesOf, DataInput, DecodeError, readerFor, resolveSchemaCompatibility, snapshotFromBytes, snapshotToBytes, type CompatibilityType } from '@stateshift/core';
import { protobuf } from '../src/index.js';

const dir = new URL('./fixtures/evolution/', import.meta.url);
const text = (name: string) => readFileSync(new URL(name, dir), 'utf8');
const file = (name: string) => new URL(name, dir);

/** Values compared by structure: maps as sorted entry lists, whatever their JavaScript shape. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: [...v] };
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return { map: [...v].map(([k, e]) => [String(k), plain(e)]).sort() };
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, plain(e)]));
  return v;
}
const asMap = (entries: [unknown, unknown][]) => ({ map: entries.map(([k, e]) => [String(k), plain(e)]).sort() });

function run(message: string, name: string, proto2 = false) {
  const [before, after] = proto2 ? ['v1_closed.proto', 'v2_closed.proto'] : ['v1.proto', 'v2.proto'];
  const previous = protobuf(text(before), `${proto2 ? 'v1c' : 'v1'}.${message}`);
  const next = protobuf(text(after), `${proto2 ? 'v2c' : 'v2'}.${message}`);
  const result = resolveSchemaCompatibility(next.snapshot(), snapshotFromBytes(snapshotToBytes(previous.snapshot())));
  const readAll = (bytes: Uint8Array, reader: { deserialize(input: DataInput): unknown }) => {
    const input = new DataInput(bytes);
    const values: unknown[] = [];
    while (!input.atEnd) values.push(reader.deserialize(input));
    return values;
  };
  const read = () => readAll(new Uint8Array(readFileSync(file(`${name}.old.bin`))), readerFor(result, next));
  const python = () => readAll(new Uint8Array(readFileSync(file(`${name}.python.bin`))), next);
  return { result, read, python, pythonRefused: existsSync(file(`${name}.python-error.txt`)) };
}

function expectVerdict(result: ReturnType<typeof run>['result'], type: CompatibilityType, lossy: boolean) {
  expect(result.type, JSON.stringify(changesOf(result))).toBe(type);
  expect(changesOf(result).some((c) => c.lossy)).toBe(lossy);
}

test('repeated message made singular: the messages merge as protobuf parsers merge them (python3-protobuf agrees), marked lossy', () => {
  const { result, read, python } = run('Merge', 'merge');
  expectVerdict(result, 'compatibleAsIs', true);
  const expected = [{ f: { a: 1, l: [1, 2], b: 5 } }, { f: null }];
  expect(read()).toEqual(expected);
  expect(python()).toEqual(expected);
});

test('repeated string made singular: the last value wins (python3-protobuf agrees), marked lossy', () => {
  const { result, read, python } = run('LastString', 'last-string');
  expectVerdict(result, 'compatibleAsIs', true);
  expect(read()).toEqual([{ f: 'b' }]);
  expect(python()).toEqual([{ f: 'b' }]);
});

test('repeated packed numbers made singular: the last value is kept (python3-protobuf drops the packed record), marked lossy', () => {
  const { result, read, python } = run('LastNumber', 'last-number');
  expectVerdict(result, 'compatibleAfterMigration', true);
  expect(read()).toEqual([{ f: -(1n << 63n) }]);
  // A singular reader does not take packed bytes: python3-protobuf keeps them only as unknown fields.
  expect(python()).toEqual([{ f: 0n }]);
});

test('two fields moved into a new oneof: the last one on the wire is kept (python3-protobuf agrees), marked lossy', () => {
  const { result, read, python } = run('NewOneof', 'new-oneof');
  expectVerdict(result, 'compatibleAsIs', true);
  expect(read()).toEqual([{ a: null, b: 1 }, { a: 'y', b: null }]);
  expect(python()).toEqual([{ a: null, b: 1 }, { a: 'y', b: null }]);
});

test('a map read as its repeated entry message: the same bytes (python3-protobuf agrees)', () => {
  const { result, read, python } = run('MapToEntries', 'map-to-entries');
  expectVerdict(result, 'compatibleAsIs', false);
  const sorted = (vs: unknown[]) => vs.map((v) => ({ f: [...(v as { f: { key: string }[] }).f].sort((a, b) => a.key.localeCompare(b.key)) }));
  const expected = [{ f: [{ key: 'a', value: 1n }, { key: 'b', value: 1n << 62n }] }];
  expect(sorted(read())).toEqual(expected);
  expect(sorted(python())).toEqual(expected);
});

test('repeated entry messages read as a map: a duplicate key keeps the last entry (python3-protobuf agrees), marked lossy', () => {
  const { result, read, python } = run('EntriesToMap', 'entries-to-map');
  expectVerdict(result, 'compatibleAsIs', true);
  const expected = [{ f: asMap([[1, 'b'], [2, 'c']]) }];
  expect(read().map(plain)).toEqual(expected);
  expect(python().map(plain)).toEqual(expected);
  // The keys are the map's int32 keys, as numbers.
  expect([...(read()[0] as { f: Map<unknown, unknown> }).f.keys()]).toEqual([1, 2]);
});

test('bytes made a string: valid UTF-8 reads; invalid UTF-8 fails to read (python3-protobuf refuses it too)', () => {
  const valid = run('BytesToString', 'bytes-to-string-valid');
  expectVerdict(valid.result, 'compatibleAfterMigration', false);
  expect(valid.read()).toEqual([{ f: 'café' }]);
  expect(valid.python()).toEqual([{ f: 'café' }]);
  const invalid = run('BytesToString', 'bytes-to-string-invalid');
  expect(invalid.pythonRefused).toBe(true);
  expect(() => invalid.read()).toThrow(DecodeError);
  expect(() => invalid.read()).toThrow(/not valid UTF-8/);
});

test('an open enum that no longer names a number reads the number (python3-protobuf agrees)', () => {
  const { result, read, python } = run('OpenEnum', 'open-enum');
  expectVerdict(result, 'compatibleAsIs', false);
  expect(read()).toEqual([{ f: 2 }, { f: 'RED' }]);
  expect(python()).toEqual([{ f: 2 }, { f: 'RED' }]);
});

test('an int32 made a closed enum: known numbers read; an unknown one fails to read instead of reaching the application', () => {
  const known = run('ClosedEnum', 'closed-enum-known', true);
  // The default moves from 0 to SMALL: migrating keeps what stored messages read before.
  expectVerdict(known.result, 'compatibleAfterMigration', false);
  expect(changesOf(known.result).map((c) => c.message).join()).toMatch(/closed enum/);
  expect(known.read()).toEqual([{ f: 'LARGE' }]);
  expect(known.python()).toEqual([{ f: 'LARGE' }]);
  const unknown = run('ClosedEnum', 'closed-enum-unknown', true);
  expect(() => unknown.read()).toThrow(DecodeError);
  expect(() => unknown.read()).toThrow(/7 is not a value of the closed enum Size/);
  // python3-protobuf hides 7 among the unknown fields: the new type alone reads the default.
  expect(unknown.python()).toEqual([{ f: 'SMALL' }]);
});

test('a proto2 default changed: stored messages keep the value they read before (python3-protobuf would switch to the new default)', () => {
  const { result, read, python } = run('Defaults', 'defaults', true);
  expectVerdict(result, 'compatibleAfterMigration', false);
  expect(read()).toEqual([{ d: 5, s: 'x' }, { d: 3, s: '' }]);
  expect(python()).toEqual([{ d: 7, s: 'x' }, { d: 3, s: '' }]);
});
