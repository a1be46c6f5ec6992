/**
 * One table of logical values for every format (DESIGN, "Values: one model for every format").
 * Each adapter declares the same logical record in its own schema language and runs
 * `valuesSuite`; the kit checks that the JavaScript shapes match the table exactly (plain objects,
 * `Map` with typed keys, `bigint`, `Uint8Array`, enum names, `null`) and that every value of a
 * wrong shape is refused with an `EncodeError` naming the field.
 *
 * The logical record, named `Sample` (with an optional nested record `Child { x: int32 }` and an
 * enum `Color { RED, GREEN, BLUE }`):
 *
 * | field | logical type | JavaScript |
 * | --- | --- | --- |
 * | id | int64 | bigint |
 * | name | string | string |
 * | count | int32 | number |
 * | ratio | float64 | number |
 * | flag | boolean | boolean |
 * | data | bytes | Uint8Array |
 * | color | enum Color | 'RED' \| 'GREEN' \| 'BLUE' |
 * | tags | list of string | string[] |
 * | scores | map of string to int64 | Map<string, bigint> |
 * | child | optional Child | { x: number } \| null |
 * | note | optional string | string \| null |
 * | ids (supports.int64MapKeys) | map of int64 to string | Map<bigint, string> |
 * | labels (supports.sets) | set of string | Set<string> |
 */
import { DataInput, DataOutput } from '../bytes.js';
import type { Serializer } from '../contract.js';
import { EncodeError } from '../errors.js';
import { decode, defaultEquals, encode, fail, show, type TestFn } from './common.js';

/** What the format can express beyond the common fields. */
export interface ValuesSupport {
  /** Maps with int64 keys (Protobuf, Thrift, core): declare field `ids`. */
  int64MapKeys?: boolean;
  /** Sets (Thrift): declare field `labels`. */
  sets?: boolean;
}

export interface ValuesSuiteOptions {
  test: TestFn;
  name: string;
  /** A serializer of the logical `Sample` record, in the adapter's schema language. */
  factory: () => Serializer<unknown>;
  supports?: ValuesSupport;
}

type Sample = Record<string, unknown>;

/** A sample with every field at an ordinary value. */
export function sampleValue(supports: ValuesSupport = {}, overrides: Sample = {}): Sample {
  return {
    id: 1_700_000_000_000n,
    name: 'order-1',
    count: 3,
    ratio: 0.25,
    flag: true,
    data: new Uint8Array([0, 1, 255]),
    color: 'GREEN',
    tags: ['a', 'b'],
    scores: new Map([['x', 1n], ['y', -2n]]),
    child: { x: 7 },
    note: 'hello',
    ...(supports.int64MapKeys ? { ids: new Map([[5n, 'five'], [-(1n << 63n), 'min']]) } : {}),
    ...(supports.sets ? { labels: new Set(['red', 'blue']) } : {}),
    ...overrides,
  };
}

/** Valid values, each as written and as it must read back. */
function validRows(s: ValuesSupport): { name: string; write: Sample; read?: Sample }[] {
  const base = sampleValue(s);
  return [
    { name: 'ordinary values', write: base },
    {
      name: 'empty and absent values',
      write: sampleValue(s, {
        id: 0n, name: '', count: 0, ratio: 0, flag: false, data: new Uint8Array(0), color: 'RED', tags: [], scores: new Map(), child: null, note: null,
        ...(s.int64MapKeys ? { ids: new Map() } : {}),
        ...(s.sets ? { labels: new Set() } : {}),
      }),
    },
    {
      name: 'extremes',
      write: sampleValue(s, {
        id: -(1n << 63n), count: -2147483648, ratio: -1.5e300, name: 'ü€😀 \u0000', note: '', color: 'BLUE',
        tags: ['', 'x'.repeat(300)], scores: new Map([['', (1n << 63n) - 1n], ['😀', 0n]]), child: { x: 2147483647 },
      }),
    },
    {
      name: 'a Buffer is accepted for bytes and reads back as a Uint8Array',
      write: sampleValue(s, { data: Buffer.from([9, 8, 7]) }),
      read: sampleValue(s, { data: new Uint8Array([9, 8, 7]) }),
    },
    { name: 'a key the record does not declare, set to undefined, is ignored', write: sampleValue(s, { extra: undefined }), read: base },
  ];
}

/** Values of a wrong shape, the field their error's path must name, and what its message must say. */
export function invalidRows(s: ValuesSupport = {}): { name: string; value: unknown; field: string; mentions?: string }[] {
  const v = (overrides: Sample) => sampleValue(s, overrides);
  return [
    // Written, it would be dropped: the message must name it.
    { name: 'a field the record does not declare', value: v({ extra: 1 }), field: '', mentions: '"extra"' },
    { name: 'a field the nested record does not declare', value: v({ child: { x: 7, extra: 1 } }), field: 'child', mentions: '"extra"' },
    { name: 'a Map where a record is declared', value: new Map(Object.entries(sampleValue(s))), field: '' },
    { name: 'an array where a record is declared', value: [], field: '' },
    { name: 'null where a record is declared', value: null, field: '' },
    { name: 'a Map where a nested record is declared', value: v({ child: new Map([['x', 7]]) }), field: 'child' },
    { name: 'a plain object where a map is declared', value: v({ scores: { x: 1n } }), field: 'scores' },
    { name: 'a number where a bigint is declared', value: v({ id: 5 }), field: 'id' },
    { name: 'a numeric string where a bigint is declared', value: v({ id: '5' }), field: 'id' },
    { name: 'a number where a map value bigint is declared', value: v({ scores: new Map([['x', 1]]) }), field: 'scores' },
    { name: 'a string where bytes are declared', value: v({ data: 'abc' }), field: 'data' },
    { name: 'an array of numbers where bytes are declared', value: v({ data: [1, 2] }), field: 'data' },
    { name: 'a number where an enum symbol is declared', value: v({ color: 1 }), field: 'color' },
    { name: 'an unknown enum symbol', value: v({ color: 'PURPLE' }), field: 'color' },
    { name: 'a Set where a list is declared', value: v({ tags: new Set(['a']) }), field: 'tags' },
    { name: 'a string where a list is declared', value: v({ tags: 'a' }), field: 'tags' },
    { name: 'a number where a string is declared', value: v({ name: 5 }), field: 'name' },
    { name: 'a string with a lone surrogate', value: v({ name: 'a\uD800b' }), field: 'name' },
    { name: 'a lone surrogate in a list element', value: v({ tags: ['\uDC00'] }), field: 'tags' },
    { name: 'a non-integer where int32 is declared', value: v({ count: 1.5 }), field: 'count' },
    { name: 'an int32 out of range', value: v({ count: 2 ** 31 }), field: 'count' },
    { name: 'a bigint where int32 is declared', value: v({ count: 1n }), field: 'count' },
    { name: 'a string where a boolean is declared', value: v({ flag: 'yes' }), field: 'flag' },
    { name: 'a string where a number is declared', value: v({ ratio: '0.5' }), field: 'ratio' },
    ...(s.int64MapKeys
      ? [
          { name: 'a string key where an int64 map key is declared', value: v({ ids: new Map([['5', 'five']]) }), field: 'ids' },
          { name: 'a plain object where an int64-keyed map is declared', value: v({ ids: { 5: 'five' } }), field: 'ids' },
        ]
      : []),
    ...(s.sets ? [{ name: 'an array where a set is declared', value: v({ labels: ['red'] }), field: 'labels' }] : []),
  ];
}

export function valuesSuite(options: ValuesSuiteOptions): void {
  const { test, name, factory } = options;
  const supports = options.supports ?? {};
  // Strict equality, never an adapter's own: prototypes (plain objects, Map, Uint8Array) and key types count.
  const equals = defaultEquals;

  for (const row of validRows(supports)) {
    test(`${name}: values: ${row.name} read back in the shared value model`, () => {
      const serializer = factory();
      const value = decode(serializer, encode(serializer, row.write));
      equals(value, row.read ?? row.write, `${row.name}: ${show(value)}`);
      if (Object.getPrototypeOf(value) !== Object.prototype) fail(`a record read back as ${show(Object.getPrototypeOf(value)?.constructor?.name)}, not a plain object`);
      const child = (value as Sample).child;
      if (child !== null && Object.getPrototypeOf(child) !== Object.prototype) fail('a nested record read back as a class instance, not a plain object');
    });
  }

  for (const row of invalidRows(supports)) {
    test(`${name}: values: ${row.name} is an EncodeError naming ${row.field || 'the value'}`, () => {
      const serializer = factory();
      const out = new DataOutput();
      let error: unknown;
      try {
        serializer.serialize(row.value, out);
      } catch (e) {
        error = e;
      }
      if (error === undefined) {
        const bytes = out.toBytes();
        let back: unknown = '(unreadable)';
        try {
          back = serializer.deserialize(new DataInput(bytes));
        } catch {
          // shown as unreadable
        }
        fail(`${row.name} was written without an error (read back as ${show(back)})`);
      }
      if (!(error instanceof EncodeError)) fail(`${row.name} threw ${String(error)}, not an EncodeError`);
      if (row.field && !new RegExp(`(^|[.\\s])${row.field}($|[.\\s[{(<])`).test(error.path)) {
        fail(`${row.name}: the error's path "${error.path}" does not name the field ${row.field} (message: ${error.message})`);
      }
      if (row.mentions && !error.message.includes(row.mentions)) fail(`${row.name}: the error's message does not say ${row.mentions} (message: ${error.message})`);
    });
  }
}
