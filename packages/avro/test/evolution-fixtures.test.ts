/**
 * Schema evolution over bytes written by Debian's python3-avro (test/fixtures/make-fixtures.py):
 * each case's old datums are read through our resolution into the reader schema; where
 * python3-avro's own resolver could read them too, our new bytes must equal its bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { changesOf, DataInput, DataOutput, DecodeError, readerFor, resolveSchemaCompatibility, snapshotFromBytes, snapshotToBytes, type CompatibilityType } from '@stateshift/core';
import { avro } from '../src/index.js';

interface Case {
  name: string;
  writer: unknown;
  reader: unknown;
}
const dir = new URL('./fixtures/evolution/', import.meta.url);
const cases = new Map((JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) as Case[]).map((c) => [c.name, c]));
const file = (name: string) => new URL(name, dir);

/** Values compared by structure: records as plain objects, bytes as plain byte arrays. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: [...v] };
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return new Map([...v].map(([k, e]) => [plain(k), plain(e)]));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, plain(e)]));
  return v;
}
// A Buffer is a Uint8Array, so this stays valid once bytes read back as plain Uint8Arrays.
const bytes = (...b: number[]) => Buffer.from(b);

/** Resolves a case as a restore would and reads every old datum (or the error of the first that fails). */
function run(name: string, count: number) {
  const c = cases.get(name)!;
  const writer = avro(c.writer as never);
  const reader = avro(c.reader as never);
  const result = resolveSchemaCompatibility(reader.snapshot(), snapshotFromBytes(snapshotToBytes(writer.snapshot())));
  const read = () => {
    const input = new DataInput(new Uint8Array(readFileSync(file(`${name}.old.bin`))));
    const values = Array.from({ length: count }, () => readerFor(result, reader).deserialize(input));
    expect(input.atEnd).toBe(true);
    return values;
  };
  /** Our bytes for the values under the reader schema, compared with python3-avro's resolution. */
  const rewritten = (values: unknown[]) => {
    const out = new DataOutput();
    for (const v of values) reader.serialize(v, out);
    return Buffer.from(out.toBytes());
  };
  return { result, read, rewritten, python: existsSync(file(`${name}.python.bin`)) ? readFileSync(file(`${name}.python.bin`)) : undefined };
}

function expectVerdict(result: ReturnType<typeof run>['result'], type: CompatibilityType, lossy: boolean) {
  expect(result.type).toBe(type);
  expect(changesOf(result).some((c) => c.lossy)).toBe(lossy);
}

test('a long read into ["double", "long"] takes the long branch: no precision lost (python3-avro agrees)', () => {
  const { result, read, rewritten, python } = run('long-into-double-long-union', 3);
  expectVerdict(result, 'compatibleAfterMigration', false);
  const values = read();
  expect(values).toEqual([(1n << 62n) + 1n, -(1n << 63n), 5n]);
  expect(rewritten(values)).toEqual(python);
});

test('an int read into ["null", "float", "long"] takes the lossless promotion to long (python3-avro agrees)', () => {
  const { result, read, rewritten, python } = run('int-into-float-long-union', 2);
  expectVerdict(result, 'compatibleAfterMigration', false);
  const values = read();
  expect(values).toEqual([16777217n, -3n]);
  expect(rewritten(values)).toEqual(python);
});

test('long array items read into a union of double and long stay exact (python3-avro cannot resolve this pair)', () => {
  const { result, read } = run('long-array-into-union-items', 1);
  expectVerdict(result, 'compatibleAfterMigration', false);
  expect(read()).toEqual([[(1n << 53n) + 1n, 1n]]);
});

test('bytes read as a string: valid UTF-8 reads, invalid UTF-8 fails to read and is never replaced', () => {
  const valid = run('bytes-to-string-valid', 2);
  expectVerdict(valid.result, 'compatibleAfterMigration', false);
  expect(changesOf(valid.result).map((c) => c.message).join()).toMatch(/valid UTF-8/);
  expect(valid.read()).toEqual(['café', '']);
  const invalid = run('bytes-to-string-invalid', 1);
  expect(() => invalid.read()).toThrow(DecodeError);
  expect(() => invalid.read()).toThrow(/not valid UTF-8/);
});

test('long to double is marked lossy and rounds as python3-avro does', () => {
  const { result, read, rewritten, python } = run('long-to-double', 1);
  expectVerdict(result, 'compatibleAfterMigration', true);
  const values = read();
  expect(values).toEqual([2 ** 53]);
  expect(rewritten(values)).toEqual(python);
});

test('an enum symbol removed with a default: stored values become the default, marked lossy', () => {
  const { result, read } = run('enum-symbol-removed-with-default', 2);
  expectVerdict(result, 'compatibleAfterMigration', true);
  expect(read()).toEqual(['RED', 'GREEN']);
});

test('a record renamed a field by alias, widened two, added one with a default, dropped one, grew a union', () => {
  const { result, read } = run('record-evolved', 2);
  expectVerdict(result, 'compatibleAfterMigration', false);
  expect(read().map(plain)).toEqual([
    { fullName: 'Gordon', age: 27n, score: 0.5, nick: null, city: 'Berlin' },
    { fullName: 'Ada', age: -1n, score: 2.25, nick: 'ad', city: 'Berlin' },
  ]);
});

test('the same record evolution without aliases writes what python3-avro resolves', () => {
  const { result, read, rewritten, python } = run('record-evolved-without-aliases', 2);
  expectVerdict(result, 'compatibleAfterMigration', false);
  const values = read();
  expect(values.map(plain)).toEqual([
    { name: 'Gordon', age: 27n, score: 0.5, nick: null, city: 'Berlin' },
    { name: 'Ada', age: -1n, score: 2.25, nick: 'ad', city: 'Berlin' },
  ]);
  expect(rewritten(values)).toEqual(python);
});

test('union branches widened inside a union (python3-avro agrees)', () => {
  const { result, read, rewritten, python } = run('union-branch-widened', 3);
  expectVerdict(result, 'compatibleAfterMigration', false);
  const values = read();
  expect(values).toEqual([null, 5n, 'x']);
  expect(rewritten(values)).toEqual(python);
});

test('a top-level "null" schema declares, reads python3-avro\'s (empty) datum and resolves into a union', () => {
  const same = run('null', 1);
  expect(same.result.type).toBe('compatibleAsIs');
  expect(same.read()).toEqual([null]);
  expect(same.rewritten([null])).toEqual(same.python);
  const union = run('null-into-union', 1);
  expect(union.read()).toEqual([null]);
  expect(union.rewritten([null])).toEqual(union.python);
});

test('every top-level schema Avro allows can be declared and round-trips', () => {
  const samples: [unknown, unknown][] = [
    ['null', null],
    ['"null"', null],
    [{ type: 'null' }, null],
    ['boolean', true],
    ['int', -7],
    ['long', -(1n << 63n)],
    ['float', 0.5],
    ['double', -2.5],
    ['bytes', bytes(0, 255)],
    ['string', 'é'],
    [{ type: 'string' }, 'x'],
    [['null', 'long'], 3n],
    [{ type: 'array', items: 'int' }, [1, 2]],
    [{ type: 'fixed', name: 'F', size: 2 }, bytes(1, 2)],
    [{ type: 'enum', name: 'E', symbols: ['A', 'B'] }, 'B'],
    [{ type: 'record', name: 'R', fields: [] }, {}],
  ];
  for (const [schema, value] of samples) {
    const serializer = avro(schema as never);
    const out = new DataOutput();
    serializer.serialize(value, out);
    expect(plain(serializer.deserialize(new DataInput(out.toBytes()))), JSON.stringify(schema)).toEqual(plain(value));
    // The snapshot reads back from its bytes (a restore declares the stored schema again).
    expect(snapshotFromBytes(snapshotToBytes(serializer.snapshot())).describe()).toEqual(serializer.snapshot().describe());
  }
});
