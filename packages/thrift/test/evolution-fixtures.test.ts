/**
 * Schema evolution over bytes written by Debian's python3-thrift (test/fixtures/make-fixtures.sh):
 * each case's stored structs (v1.thrift) are read through our rules as the new IDL (v2.thrift), in
 * both protocols; where python3-thrift itself read them as the new IDL, what it wrote back is read
 * too, to show where the two agree and where we keep a value it drops.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { changesOf, DataInput, DecodeError, readerFor, resolveSchemaCompatibility, snapshotFromBytes, snapshotToBytes, type CompatibilityType } from '@stateshift/core';
import { thrift } from '../src/index.js';

const dir = new URL('./fixtures/evolution/', import.meta.url);
const idl = (name: string) => readFileSync(new URL(name, dir), 'utf8');
const file = (name: string) => new URL(name, dir);
const PROTOCOLS = ['binary', 'compact'] as const;

/** Values compared by structure, whatever the JavaScript shape of bytes, sets and maps. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: [...v] };
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Set) return { set: [...v].map(plain) };
  if (v instanceof Map) return { map: [...v].map(([k, e]) => [plain(k), plain(e)]) };
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, e]) => e !== undefined).map(([k, e]) => [k, plain(e)]));
  return v;
}

function run(struct: string, name: string, protocol: (typeof PROTOCOLS)[number]) {
  const previous = thrift(idl('v1.thrift'), struct, { protocol });
  const next = thrift(idl('v2.thrift'), struct, { protocol });
  const result = resolveSchemaCompatibility(next.snapshot(), snapshotFromBytes(snapshotToBytes(previous.snapshot())));
  const readAll = (path: string, reader: { deserialize(input: DataInput): unknown }) => {
    const input = new DataInput(new Uint8Array(readFileSync(file(path))));
    const values: unknown[] = [];
    while (!input.atEnd) values.push(plain(reader.deserialize(input)));
    return values;
  };
  const python = existsSync(file(`${name}-${protocol}.python.bin`)) ? () => readAll(`${name}-${protocol}.python.bin`, next) : undefined;
  return { result, read: () => readAll(`${name}-${protocol}.old.bin`, readerFor(result, next)), python };
}

function expectVerdict(result: ReturnType<typeof run>['result'], type: CompatibilityType) {
  expect(result.type, JSON.stringify(changesOf(result))).toBe(type);
  expect(changesOf(result).some((c) => c.lossy)).toBe(false);
}

for (const protocol of PROTOCOLS) {
  test(`${protocol}: integers widened in fields, lists and map keys keep every value (python3-thrift skips or refuses them)`, () => {
    const { result, read, python } = run('Widened', 'widened', protocol);
    expectVerdict(result, 'compatibleAfterMigration');
    expect(read()).toEqual([{ a: -3, b: 300, c: -7n, l: [1n, -2147483648n], m: { map: [[-1, 'x']] } }]);
    // python3-thrift's generated reader skips a field whose wire type changed (or, in binary, refuses the struct).
    if (protocol === 'binary') expect(python).toBeUndefined();
    else for (const field of ['a', 'b', 'c']) expect((python!()[0] as Record<string, unknown>)[field]).toBeNull();
  });

  test(`${protocol}: binary read as string: valid UTF-8 reads (python3-thrift agrees), invalid fails to read (python3-thrift refuses too)`, () => {
    const valid = run('Text', 'text-valid', protocol);
    expectVerdict(valid.result, 'compatibleAsIs');
    expect(changesOf(valid.result).map((c) => c.message).join()).toMatch(/valid UTF-8/);
    expect(valid.read()).toEqual([{ b: 'café' }]);
    expect(valid.python!()).toEqual([{ b: 'café' }]);
    const invalid = run('Text', 'text-invalid', protocol);
    expect(invalid.python).toBeUndefined();
    expect(() => invalid.read()).toThrow(DecodeError);
  });

  test(`${protocol}: a changed default: stored structs without the field keep the old one (python3-thrift takes the new one)`, () => {
    const { result, read, python } = run('Defaults', 'defaults', protocol);
    expectVerdict(result, 'compatibleAfterMigration');
    expect(read()).toEqual([{ d: 5, s: 'x' }, { d: 3, s: 'y' }]);
    expect(python!()).toEqual([{ d: 7, s: 'x' }, { d: 3, s: 'y' }]);
  });

  test(`${protocol}: fields renamed, removed, added with a default, required made optional (python3-thrift agrees)`, () => {
    const { result, read, python } = run('Person', 'person', protocol);
    expectVerdict(result, 'compatibleAsIs');
    expect(read()).toEqual([{ fullName: 'Ada', age: 36, city: 'Berlin' }]);
    expect(python!()).toEqual([{ fullName: 'Ada', age: 36, city: 'Berlin' }]);
  });

  test(`${protocol}: an enum value added and an i32 made an enum read as is (python3-thrift agrees)`, () => {
    const { result, read, python } = run('Paint', 'paint', protocol);
    expectVerdict(result, 'compatibleAsIs');
    expect(read()).toEqual(python!());
    expect(read()).toEqual([{ c: 'BLUE', n: 'BLUE' }]);
  });
}
