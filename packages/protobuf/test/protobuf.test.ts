import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import { DataInput, DataOutput, EncodeError, SchemaError, type CompatibilityType } from '@stateshift/core';
import { decode, encode, goldenSuite, serializerSuite, upgradeSuite, type UpgradeSpec } from '@stateshift/core/testing';
import { protobuf } from '../src/index.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const orderProto = readFileSync(fixture('order.proto'), 'utf8');
const order = () => protobuf(orderProto, 'shop.Order');
const base = { order_id: '', user_id: '', create_ts: 0n, amount: 0, status: 'NEW', items: [], tags: new Map(), deltas: [], checksum: new Uint8Array(), card: null, voucher: null };

serializerSuite({
  test,
  fc,
  name: 'protobuf Order',
  factory: order,
  samples: [
    base,
    { ...base, order_id: 'o-1', create_ts: -(1n << 63n), amount: -0.5, status: 'SHIPPED', items: [{ sku: 'a', qty: -3 }], tags: new Map([['k', 'v']]), deltas: [(1n << 63n) - 1n, -1n], checksum: new Uint8Array([0, 255]), card: '4111' },
    { ...base, voucher: 7 },
  ],
  invalid: [null, 'x', { ...base, create_ts: 'soon' }, { ...base, items: [{ sku: 1 }] }],
  arbitrary: (f) => {
    const c = f as typeof fc;
    const long = c.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
    return c.record(
      {
        order_id: c.string(),
        user_id: c.string(),
        create_ts: long,
        amount: c.double({ noNaN: true }).filter((d) => !Object.is(d, -0)),
        status: c.constantFrom('NEW', 'PAID', 'SHIPPED'),
        items: c.array(c.record({ sku: c.string(), qty: c.integer() }, { noNullPrototype: true })),
        tags: c.uniqueArray(c.tuple(c.string(), c.string()), { selector: (e) => e[0] }).map((e) => new Map(e)),
        deltas: c.array(long),
        checksum: c.uint8Array(),
        card: c.constant(null),
        voucher: c.constant(null),
      },
      { noNullPrototype: true },
    );
  },
});

test('messages written by Debian python3-protobuf read back', () => {
  const input = new DataInput(new Uint8Array(readFileSync(fixture('orders.bin'))));
  const serializer = order();
  expect(serializer.deserialize(input)).toEqual({
    ...base,
    order_id: 'o-1',
    user_id: 'joha',
    create_ts: 1_700_000_000_000n,
    amount: 12.5,
    status: 'PAID',
    items: [{ sku: 'apple', qty: 3 }],
    tags: new Map([['channel', 'web']]),
    deltas: [-1n, (1n << 63n) - 1n],
    checksum: new Uint8Array([0, 1]),
    card: '4111',
  });
  expect(serializer.deserialize(input)).toEqual({ ...base, order_id: 'o-2', user_id: 'nina', create_ts: -5n, voucher: 7 });
  expect(input.atEnd).toBe(true);
  // Written again, the messages are python3-protobuf's bytes exactly (proto3 zero values stay off the wire).
  const again = new DataOutput();
  const reread = new DataInput(new Uint8Array(readFileSync(fixture('orders.bin'))));
  while (!reread.atEnd) serializer.serialize(serializer.deserialize(reread), again);
  expect(Buffer.from(again.toBytes())).toEqual(readFileSync(fixture('orders.bin')));
});

test('a closed (proto2) enum takes only its own values; an open one keeps an unknown number', () => {
  const closed = protobuf('syntax = "proto2"; enum E { A = 1; B = 2; } message M { optional E f = 1; }', 'M');
  expect(() => encode(closed, { f: 7 })).toThrow(EncodeError);
  const unknown = new Uint8Array([2, 8, 7]); // length 2, field 1 varint 7
  expect(() => closed.deserialize(new DataInput(unknown))).toThrow(/7 is not a value of the closed enum E/);
  const open = protobuf('syntax = "proto3"; enum E { A = 0; B = 2; } message M { E f = 1; }', 'M');
  expect(open.deserialize(new DataInput(encode(open, { f: 7 })))).toEqual({ f: 7 });
});

test('a singular message seen twice merges; a oneof keeps the last member on the wire', () => {
  const m = protobuf('syntax = "proto3"; message N { int32 a = 1; repeated int32 l = 2; } message M { N n = 1; oneof o { string s = 2; int32 i = 3; } }', 'M');
  // n { a: 1, l: [1] }, i: 4, n { l: [2] }, s: "x"
  const body = [10, 4, 8, 1, 16, 1, 24, 4, 10, 2, 16, 2, 18, 1, 120];
  expect(m.deserialize(new DataInput(new Uint8Array([body.length, ...body])))).toEqual({ n: { a: 1, l: [1, 2] }, s: 'x', i: null });
});

test('bad definitions and values fail clearly', () => {
  expect(() => protobuf('message {', 'M')).toThrow(SchemaError);
  expect(() => protobuf(orderProto, 'shop.Nope')).toThrow(/no message type "shop.Nope"/);
  expect(() => encode(order(), { ...base, create_ts: 'soon' })).toThrow(EncodeError);
  expect(() => encode(order(), { ...base, create_ts: 'soon' })).toThrow(/create_ts/);
  expect(() => encode(order(), { ...base, orderId: 'o-1' })).toThrow(/Order has no field "orderId"; its fields are order_id/);
});

test('float: a number beyond its range is refused (it would be Infinity); rounding within it is what float means', () => {
  const s = protobuf('syntax = "proto3"; message M { float f = 1; repeated float r = 2; map<string, float> m = 3; }', 'M');
  const none = { r: [], m: new Map() };
  expect(() => encode(s, { f: 1e40 })).toThrow(EncodeError);
  expect(() => encode(s, { f: 1e40 })).toThrow(/^M\.f: 1e\+40 \(number\) is beyond float's range \(±3\.4028234663852886e\+38\) and would be written as Infinity; use "double" for this field$/);
  expect(() => encode(s, { f: -1e40 })).toThrow(/would be written as -Infinity/);
  expect(() => encode(s, { r: [1, 3.5e38] })).toThrow(/^M\.r\[1\]: 3\.5e\+38 \(number\) is beyond float's range/);
  expect(() => encode(s, { m: new Map([['k', 1e39]]) })).toThrow(/^M\.m.*1e\+39 \(number\) is beyond float's range/);
  expect(decode(s, encode(s, { f: 3.4e38 }))).toEqual({ f: Math.fround(3.4e38), ...none });
  expect(decode(s, encode(s, { f: 1.1 }))).toEqual({ f: Math.fround(1.1), ...none });
  for (const f of [Infinity, -Infinity, NaN, 3.4028234663852886e38, -0]) expect(decode(s, encode(s, { f }))).toEqual({ f, ...none });
});

const p3 = (body: string, name = 'M') => `syntax = "proto3"; message ${name} { ${body} }`;
function spec(name: string, before: string, samples: unknown[], after: string, expect: CompatibilityType, more: Partial<UpgradeSpec> = {}, typeName = 'M'): UpgradeSpec {
  return { name, previous: () => protobuf(before, 'M'), samples, next: () => protobuf(after, typeName), expect, ...more };
}
const one = (type: string, value: unknown): [string, unknown[]] => [p3(`${type} f = 1;`), [{ f: value }]];
const change = (name: string, from: string, value: unknown, to: string, expect: CompatibilityType, migrated?: unknown, more: Partial<UpgradeSpec> = {}) => {
  const [before, samples] = one(from, value);
  return spec(name, before, samples, p3(`${to} f = 1;`), expect, { ...(migrated === undefined ? {} : { migrated: [{ f: migrated }] }), paths: ['M.f (#1)'], ...more });
};

upgradeSuite({
  test,
  name: 'protobuf rules',
  specs: [
    spec('identical', p3('string a = 1;'), [{ a: 'x' }], p3('string a = 1;'), 'compatibleAsIs'),
    spec('field added', p3('string a = 1;'), [{ a: 'x' }], p3('string a = 1; int64 b = 2;'), 'compatibleAsIs', { migrated: [{ a: 'x', b: 0n }], paths: ['M.b (#2)'] }),
    spec('field removed', p3('string a = 1; int64 b = 2;'), [{ a: 'x', b: 3n }], p3('string a = 1;'), 'compatibleAsIs', { migrated: [{ a: 'x' }], paths: ['M.b (#2)'] }),
    spec('field renamed', p3('string a = 1;'), [{ a: 'x' }], p3('string name = 1;'), 'compatibleAsIs', { migrated: [{ name: 'x' }] }),
    spec('message renamed', p3('string a = 1;'), [{ a: 'x' }], p3('string a = 1;', 'N'), 'compatibleAsIs', {}, 'N'),
    change('int32 > int64 (same varint)', 'int32', -5, 'int64', 'compatibleAsIs', -5n),
    change('int64 > int32 (cut, lossy)', 'int64', 5n, 'int32', 'compatibleAsIs', 5, { lossy: ['M.f (#1)'] }),
    change('uint32 > uint64', 'uint32', 7, 'uint64', 'compatibleAsIs', 7n),
    change('bool > int32', 'bool', true, 'int32', 'compatibleAsIs', 1),
    change('int32 > bool (lossy)', 'int32', 1, 'bool', 'compatibleAsIs', true, { lossy: ['M.f (#1)'] }),
    change('sint32 > sint64', 'sint32', -3, 'sint64', 'compatibleAsIs', -3n),
    change('fixed32 > sfixed32 (lossy)', 'fixed32', 9, 'sfixed32', 'compatibleAsIs', 9, { lossy: ['M.f (#1)'] }),
    change('fixed64 > sfixed64', 'fixed64', 9n, 'sfixed64', 'compatibleAsIs', 9n),
    change('string > bytes', 'string', 'ab', 'bytes', 'compatibleAsIs', new Uint8Array([97, 98])),
    change('bytes > string (checked per value)', 'bytes', new Uint8Array([97]), 'string', 'compatibleAfterMigration', 'a'),
    spec('enum > int32', 'syntax = "proto3"; enum E { A = 0; B = 1; } message M { E f = 1; }', [{ f: 'B' }], p3('int32 f = 1;'), 'compatibleAsIs', { migrated: [{ f: 1 }] }),
    spec('int32 > enum', p3('int32 f = 1;'), [{ f: 1 }], 'syntax = "proto3"; enum E { A = 0; B = 1; } message M { E f = 1; }', 'compatibleAsIs', { migrated: [{ f: 'B' }] }),
    change('int32 > sint64 (bytes differ)', 'int32', -4, 'sint64', 'compatibleAfterMigration', -4n),
    change('fixed32 > int64', 'fixed32', 4, 'int64', 'compatibleAfterMigration', 4n),
    change('float > double', 'float', 0.5, 'double', 'compatibleAfterMigration', 0.5),
    spec('float > double with a field added: the new field reads its default', p3('float f = 1;'), [{ f: 0.5 }], p3('double f = 1; string g = 2; repeated int64 h = 3;'), 'compatibleAfterMigration', { migrated: [{ f: 0.5, g: '', h: [] }] }),
    change('int32 > repeated int32', 'int32', 3, 'repeated int32', 'compatibleAsIs', [3]),
    change('int32 > repeated int32, the default not on the wire', 'int32', 0, 'repeated int32', 'compatibleAsIs', []),
    change('repeated int32 > int32 (last kept, lossy)', 'repeated int32', [1, 2], 'int32', 'compatibleAfterMigration', 2, { lossy: ['M.f (#1)'] }),
    change('string > int32', 'string', 'x', 'int32', 'incompatible'),
    change('double > int64', 'double', 1.5, 'int64', 'incompatible'),
    change('sint64 > int64 (zigzag vs varint)', 'sint64', -5n, 'int64', 'compatibleAfterMigration', -5n),
    spec('number reused for a message', p3('string f = 1;'), [{ f: 'x' }], 'syntax = "proto3"; message N { string s = 1; } message M { N f = 1; }', 'incompatible', { paths: ['M.f (#1)'] }),
    spec('proto2 required field added', 'syntax = "proto2"; message M { optional string a = 1; }', [{ a: 'x' }], 'syntax = "proto2"; message M { optional string a = 1; required int32 b = 2; }', 'incompatible', { paths: ['M.b (#2)'] }),
    spec('field moved into an existing oneof', p3('string a = 1; oneof o { int32 b = 2; }'), [{ a: 'x', b: 1 }], p3('oneof o { string a = 1; int32 b = 2; }'), 'incompatible', { paths: ['M.a (#1)'] }),
    spec('nested message field widened as is', 'syntax = "proto3"; message N { int32 q = 1; } message M { N n = 1; }', [{ n: { q: 2 } }], 'syntax = "proto3"; message N { int64 q = 1; } message M { N n = 1; }', 'compatibleAsIs', { migrated: [{ n: { q: 2n } }], paths: ['N.q (#1)'] }),
    spec('nested message field migrated', 'syntax = "proto3"; message N { float q = 1; } message M { N n = 1; repeated N ns = 2; }', [{ n: { q: 0.5 }, ns: [{ q: 1 }] }], 'syntax = "proto3"; message N { double q = 1; } message M { N n = 1; repeated N ns = 2; }', 'compatibleAfterMigration', { migrated: [{ n: { q: 0.5 }, ns: [{ q: 1 }] }] }),
    spec('repeated message > singular: merged as parsers merge (lossy)', 'syntax = "proto3"; message N { int32 a = 1; repeated int32 l = 2; int32 b = 3; } message M { repeated N f = 1; }', [{ f: [{ a: 1, l: [1], b: 0 }, { a: 0, l: [2], b: 5 }] }], 'syntax = "proto3"; message N { int32 a = 1; repeated int32 l = 2; int32 b = 3; } message M { N f = 1; }', 'compatibleAsIs', { migrated: [{ f: { a: 1, l: [1, 2], b: 5 } }], lossy: ['M.f (#1)'] }),
    spec('repeated message > singular with a migration elsewhere: merged the same way', 'syntax = "proto3"; message N { int32 a = 1; repeated int32 l = 2; int32 b = 3; } message M { repeated N f = 1; float g = 2; }', [{ f: [{ a: 1, l: [1], b: 0 }, { a: 0, l: [2], b: 5 }], g: 0.5 }], 'syntax = "proto3"; message N { int32 a = 1; repeated int32 l = 2; int32 b = 3; } message M { N f = 1; double g = 2; }', 'compatibleAfterMigration', { migrated: [{ f: { a: 1, l: [1, 2], b: 5 }, g: 0.5 }], lossy: ['M.f (#1)'] }),
    change('repeated string > string: the last kept (lossy)', 'repeated string', ['a', 'b'], 'string', 'compatibleAsIs', 'b', { lossy: ['M.f (#1)'] }),
    spec('one field moved into a new oneof: a stored zero stays set', p3('string a = 1; int32 b = 2;'), [{ a: 'x', b: 1 }, { a: 'y', b: 0 }], p3('string a = 1; oneof o { int32 b = 2; }'), 'compatibleAfterMigration', { paths: ['M.b (#2)'] }),
    spec('made proto3 optional: a stored zero stays set', p3('int32 b = 1;'), [{ b: 0 }, { b: 3 }], p3('optional int32 b = 1;'), 'compatibleAfterMigration', { paths: ['M.b (#1)'] }),
    spec('proto3 optional made plain', p3('optional int32 b = 1;'), [{ b: 0 }, { b: null }], p3('int32 b = 1;'), 'compatibleAsIs', { migrated: [{ b: 0 }, { b: 0 }] }),
    spec('two fields moved into a new oneof: the last on the wire kept (lossy)', p3('string a = 1; int32 b = 2;'), [{ a: 'x', b: 1 }, { a: 'y', b: 0 }], p3('oneof o { string a = 1; int32 b = 2; }'), 'compatibleAsIs', { migrated: [{ a: null, b: 1 }, { a: 'y', b: null }], lossy: ['M.o'] }),
    spec('two fields moved into a new oneof with a migration elsewhere', p3('string a = 1; int32 b = 2; float c = 3;'), [{ a: 'x', b: 1, c: 0.5 }], p3('oneof o { string a = 1; int32 b = 2; } double c = 3;'), 'compatibleAfterMigration', { migrated: [{ a: null, b: 1, c: 0.5 }], lossy: ['M.o'] }),
    spec('map > its repeated entry message', p3('map<string, int64> f = 1;'), [{ f: new Map([['a', 1n], ['b', 2n]]) }], 'syntax = "proto3"; message E { string key = 1; int64 value = 2; } message M { repeated E f = 1; }', 'compatibleAsIs', { migrated: [{ f: [{ key: 'a', value: 1n }, { key: 'b', value: 2n }] }], paths: ['M.f (#1)'] }),
    spec('repeated entry message > map: duplicate keys keep the last (lossy)', 'syntax = "proto3"; message E { int32 key = 1; string value = 2; } message M { repeated E f = 1; }', [{ f: [{ key: 1, value: 'a' }, { key: 1, value: 'b' }, { key: 2, value: 'c' }] }], p3('map<int32, string> f = 1;'), 'compatibleAsIs', { migrated: [{ f: new Map([[1, 'b'], [2, 'c']]) }], lossy: ['M.f (#1)'] }),
    spec('repeated entry message > map with a migration elsewhere', 'syntax = "proto3"; message E { int32 key = 1; float value = 2; } message M { repeated E f = 1; }', [{ f: [{ key: 1, value: 0.5 }] }], p3('map<int32, double> f = 1;'), 'compatibleAfterMigration', { migrated: [{ f: new Map([[1, 0.5]]) }] }),
    spec('map > repeated message that is not its entry', p3('map<string, int64> f = 1;'), [{ f: new Map([['a', 1n]]) }], 'syntax = "proto3"; message E { string key = 1; int64 value = 2; int32 extra = 3; } message M { repeated E f = 1; }', 'incompatible', { paths: ['M.f (#1)'] }),
    spec('map key int64 > int32 (cut, lossy)', p3('map<int64, string> f = 1;'), [{ f: new Map([[5n, 'a']]) }], p3('map<int32, string> f = 1;'), 'compatibleAsIs', { migrated: [{ f: new Map([[5, 'a']]) }], lossy: ['M.f (#1)'] }),
    spec('closed enum loses a number: refused', 'syntax = "proto2"; enum E { A = 1; B = 2; } message M { optional E f = 1; }', [{ f: 'B' }], 'syntax = "proto2"; enum E { A = 1; } message M { optional E f = 1; }', 'incompatible', { paths: ['M.f (#1)'] }),
    spec('open enum loses a number: read as the number', 'syntax = "proto3"; enum E { A = 0; B = 2; } message M { E f = 1; }', [{ f: 'B' }], 'syntax = "proto3"; enum E { A = 0; } message M { E f = 1; }', 'compatibleAsIs', { migrated: [{ f: 2 }], paths: ['M.f (#1)'] }),
    spec('proto2 default changed: stored messages keep the old one', 'syntax = "proto2"; message M { optional int32 f = 1 [default = 5]; optional string g = 2; }', [{ f: 5, g: 'x' }], 'syntax = "proto2"; message M { optional int32 f = 1 [default = 7]; optional string g = 2; }', 'compatibleAfterMigration', { migrated: [{ f: 5, g: 'x' }], paths: ['M.f (#1)'] }),
    spec('proto2 optional made required: refused', 'syntax = "proto2"; message M { optional int32 f = 1; }', [{ f: 1 }], 'syntax = "proto2"; message M { required int32 f = 1; }', 'incompatible', { paths: ['M.f (#1)'] }),
    spec('proto2 enum default is the first declared value, not 0', 'syntax = "proto2"; message M { optional string s = 2; }', [{ s: 'x' }], 'syntax = "proto2"; enum E { B = 1; A = 0; } message M { optional E f = 1; optional string s = 2; }', 'compatibleAsIs', { migrated: [{ f: 'B', s: 'x' }] }),
    spec('protobuf > other kind', p3('string a = 1;'), [{ a: 'x' }], p3('string a = 1;'), 'compatibleAsIs'),
  ],
});

goldenSuite({
  test,
  dir: fileURLToPath(new URL('./golden', import.meta.url)),
  cases: { 'protobuf-order': { serializer: order, samples: [{ ...base, order_id: 'o-1', create_ts: 5n, items: [{ sku: 'a', qty: 1 }], card: 'c' }] } },
});

test('an empty message (and one holding it) writes and reads; a key it does not declare is refused', () => {
  const empty = protobuf('syntax = "proto3"; message Empty {}', 'Empty');
  expect(decode(empty, encode(empty, {}))).toEqual({});
  expect(() => encode(empty, { x: 1 })).toThrow(/Empty has no field "x"/);
  const outer = protobuf('syntax = "proto3"; message Empty {} message M { Empty e = 1; int32 n = 2; }', 'M');
  expect(decode(outer, encode(outer, { e: {}, n: 3 }))).toEqual({ e: {}, n: 3 });
});
