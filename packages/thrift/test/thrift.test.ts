import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import { DataInput, EncodeError, SchemaError, type CompatibilityType } from '@stateshift/core';
import { decode, encode, goldenSuite, serializerSuite, upgradeSuite, type UpgradeSpec } from '@stateshift/core/testing';
import thriftLib from 'thrift';
import { thrift } from '../src/index.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const idl = readFileSync(fixture('order.thrift'), 'utf8');
const order = (protocol: 'binary' | 'compact') => () => thrift(idl, 'Order', { protocol });
const fromPython = {
  orderId: 'o-1',
  userId: 'joha',
  createTs: 1_700_000_000_000n,
  amount: 12.5,
  status: 'PAID',
  items: [{ sku: 'apple', qty: 3 }, { sku: 'pear', qty: 1 }],
  tags: new Map([['channel', 'web']]),
  flags: new Set([1, -2]),
  checksum: new Uint8Array([0, 255]),
  payment: { card: null, voucher: 7 },
  gift: true,
  priority: -3,
};
// Absent fields read as null; fields with a default read as the default.
const minimal = { orderId: 'o-0', userId: null, createTs: null, amount: null, status: 'NEW', items: null, tags: null, flags: null, checksum: null, payment: null, gift: false, priority: null };

const arbitraryOrder = (f: unknown) => {
  const c = f as typeof fc;
  return c.record(
    {
      orderId: c.string(),
      userId: c.string(),
      createTs: c.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
      amount: c.double({ noNaN: true }),
      status: c.constantFrom('NEW', 'PAID', 'SHIPPED'),
      items: c.array(c.record({ sku: c.string(), qty: c.integer() }, { noNullPrototype: true })),
      tags: c.uniqueArray(c.tuple(c.string(), c.string()), { selector: (e) => e[0] }).map((e) => new Map(e)),
      flags: c.uniqueArray(c.integer({ min: -32768, max: 32767 })).map((e) => new Set(e)),
      checksum: c.option(c.uint8Array(), { nil: null }),
      payment: c.option(
        c.oneof(
          c.record({ card: c.string(), voucher: c.constant(null) }, { noNullPrototype: true }),
          c.record({ card: c.constant(null), voucher: c.integer() }, { noNullPrototype: true }),
        ),
        { nil: null },
      ),
      gift: c.boolean(),
      priority: c.integer({ min: -128, max: 127 }),
    },
    { noNullPrototype: true },
  );
};

for (const protocol of ['binary', 'compact'] as const) {
  serializerSuite({
    test,
    fc,
    name: `thrift Order (${protocol})`,
    factory: order(protocol),
    samples: [fromPython, minimal, { ...minimal, payment: { card: '4111', voucher: null }, items: Array.from({ length: 20 }, (_, i) => ({ sku: `s${i}`, qty: i })) }],
    invalid: [null, { userId: 'no id' }, { ...minimal, createTs: 5 }, { ...minimal, priority: 300 }, { ...minimal, payment: { card: 'x', voucher: 1 } }],
    arbitrary: arbitraryOrder,
  });

  test(`structs written by Debian python3-thrift (${protocol}) read back, and ours are the same bytes`, () => {
    const bytes = new Uint8Array(readFileSync(fixture(`order-${protocol}.bin`)));
    const serializer = order(protocol)();
    const input = new DataInput(bytes);
    expect(serializer.deserialize(input)).toEqual(fromPython);
    expect(input.atEnd).toBe(true);
    // Python writes set elements in its own order; compare structs that hold at most one.
    const single = { ...fromPython, flags: new Set([1]) };
    expect(serializer.deserialize(new DataInput(encode(serializer, single)))).toEqual(single);
  });
}

test('our bytes equal the thrift npm package protocols for the same struct', () => {
  const idlSmall = 'struct P { 1: string name, 2: i32 age, 3: i64 big, 4: list<string> tags, 5: bool ok, 20: double d }';
  const value = { name: 'Gordon', age: 27, big: 1n << 40n, tags: ['a', 'b'], ok: true, d: 0.5 };
  for (const [protocol, Protocol] of [['binary', thriftLib.TBinaryProtocol], ['compact', thriftLib.TCompactProtocol]] as const) {
    let written = Buffer.alloc(0);
    const transport = new thriftLib.TBufferedTransport(undefined, (buf?: Buffer) => void (written = Buffer.concat([written, buf!])));
    const p = new Protocol(transport);
    p.writeStructBegin('P');
    p.writeFieldBegin('name', thriftLib.Thrift.Type.STRING, 1);
    p.writeString('Gordon');
    p.writeFieldEnd();
    p.writeFieldBegin('age', thriftLib.Thrift.Type.I32, 2);
    p.writeI32(27);
    p.writeFieldEnd();
    p.writeFieldBegin('big', thriftLib.Thrift.Type.I64, 3);
    p.writeI64(new thriftLib.Int64(2 ** 40));
    p.writeFieldEnd();
    p.writeFieldBegin('tags', thriftLib.Thrift.Type.LIST, 4);
    p.writeListBegin(thriftLib.Thrift.Type.STRING, 2);
    p.writeString('a');
    p.writeString('b');
    p.writeListEnd();
    p.writeFieldEnd();
    p.writeFieldBegin('ok', thriftLib.Thrift.Type.BOOL, 5);
    p.writeBool(true);
    p.writeFieldEnd();
    p.writeFieldBegin('d', thriftLib.Thrift.Type.DOUBLE, 20);
    p.writeDouble(0.5);
    p.writeFieldEnd();
    p.writeFieldStop();
    p.writeStructEnd();
    transport.flush();
    expect(Buffer.from(encode(thrift(idlSmall, 'P', { protocol }), value)), protocol).toEqual(written);
  }
});

test('bad IDL, names and values fail clearly', () => {
  expect(() => thrift('struct {', 'X')).toThrow(SchemaError);
  expect(() => thrift(idl, 'Nope')).toThrow(/no struct or union "Nope"/);
  expect(() => thrift('struct A { 1: Missing m }', 'A')).toThrow(/unknown Thrift type Missing/);
  expect(() => thrift(idl, 'Order', { protocol: 'json' as never })).toThrow(TypeError);
  expect(() => encode(order('binary')(), { orderId: 'x', items: [{ qty: 1 }] })).toThrow(EncodeError);
  expect(() => encode(order('binary')(), { orderId: 'x', items: [{ qty: 1 }] })).toThrow(/Order\.items\[0\]\.sku: required field is missing/);
});

for (const protocol of ['binary', 'compact'] as const) {
  test(`a field the struct, union or exception does not declare is refused, naming it, not dropped (${protocol})`, () => {
    const serializer = order(protocol)();
    expect(() => encode(serializer, { ...minimal, qty: 3 })).toThrow(EncodeError);
    expect(() => encode(serializer, { ...minimal, qty: 3 })).toThrow(
      /^Order\.qty: struct Order has no field "qty"; its fields are orderId, userId, createTs, amount, status, items, tags, flags, checksum, payment, gift, priority\. Declare "qty" in the IDL or remove it from the value before update$/,
    );
    // null is a value too (only undefined counts as absent).
    expect(() => encode(serializer, { ...minimal, qty: null })).toThrow(/^Order\.qty: struct Order has no field "qty"/);
    // Nested: the path leads to it.
    expect(() => encode(serializer, { ...minimal, items: [{ sku: 'a' }, { sku: 'b', price: 2 }] })).toThrow(/^Order\.items\[1\]\.price: struct Item has no field "price"; its fields are sku, qty\./);
    expect(() => encode(serializer, { ...minimal, payment: { card: 'x', cash: 5 } })).toThrow(/^Order\.payment\.cash: union Payment has no field "cash"; its fields are card, voucher\./);
    expect(() => encode(serializer, { ...minimal, payment: { cash: 5 } })).toThrow(/^Order\.payment\.cash: union Payment has no field "cash"/);
    const more = thrift('exception Oops { 1: string why } struct I { 1: i32 q } struct S { 1: Oops oops, 2: map<string, I> byName }', 'S', { protocol });
    expect(() => encode(more, { oops: { why: 'w', when: 1 } })).toThrow(/^S\.oops\.when: struct Oops has no field "when"; its fields are why\./);
    expect(() => encode(more, { byName: new Map([['k', { q: 1, r: 2 }]]) })).toThrow(/^S\.byName\{value\}\.r: struct I has no field "r"; its fields are q\./);
  });

  test(`an undeclared key set to undefined, and inherited enumerable keys, are not fields: written without them (${protocol})`, () => {
    const serializer = order(protocol)();
    expect(decode(serializer, encode(serializer, { ...fromPython, qty: undefined }))).toEqual(fromPython);
    const inherited = Object.assign(Object.create({ qty: 3 }) as object, fromPython);
    expect(decode(serializer, encode(serializer, inherited))).toEqual(fromPython);
  });
}

const s = (body: string, name = 'S') => `enum E { A = 0, B = 1 } struct ${name} { ${body} }`;
function spec(name: string, before: string, samples: unknown[], after: string, expect: CompatibilityType, more: Partial<UpgradeSpec> = {}, protocols: ['binary' | 'compact', 'binary' | 'compact'] = ['binary', 'binary'], structName = 'S'): UpgradeSpec {
  return { name, previous: () => thrift(before, 'S', { protocol: protocols[0] }), samples, next: () => thrift(after, structName, { protocol: protocols[1] }), expect, ...more };
}

upgradeSuite({
  test,
  name: 'thrift rules',
  specs: [
    spec('identical', s('1: string a'), [{ a: 'x' }], s('1: string a'), 'compatibleAsIs'),
    spec('optional field added', s('1: string a'), [{ a: 'x' }], s('1: string a, 2: optional i32 b'), 'compatibleAsIs', { migrated: [{ a: 'x', b: null }], paths: ['S.b (#2)'] }),
    spec('defaulted field added', s('1: string a'), [{ a: 'x' }], s('1: string a, 2: i32 b = 7'), 'compatibleAsIs', { migrated: [{ a: 'x', b: 7 }] }),
    spec('field removed', s('1: string a, 2: i32 b'), [{ a: 'x', b: 1 }], s('1: string a'), 'compatibleAsIs', { migrated: [{ a: 'x' }], paths: ['S.b (#2)'] }),
    spec('field renamed', s('1: string a'), [{ a: 'x' }], s('1: string name'), 'compatibleAsIs', { migrated: [{ name: 'x' }] }),
    spec('struct renamed', s('1: string a'), [{ a: 'x' }], s('1: string a', 'T'), 'compatibleAsIs', {}, ['binary', 'binary'], 'T'),
    spec('required made optional', s('1: required string a'), [{ a: 'x' }], s('1: optional string a'), 'compatibleAsIs'),
    spec('required field added without a default', s('1: string a'), [{ a: 'x' }], s('1: string a, 2: required i32 b'), 'incompatible', { paths: ['S.b (#2)'] }),
    spec('optional made required without a default', s('1: optional string a'), [{ a: 'x' }], s('1: required string a'), 'incompatible', { paths: ['S.a (#1)'] }),
    spec('i8 > i16', s('1: i8 n'), [{ n: -3 }], s('1: i16 n'), 'compatibleAfterMigration', { migrated: [{ n: -3 }], paths: ['S.n (#1)'] }),
    spec('i16 > i32', s('1: i16 n'), [{ n: 300 }], s('1: i32 n'), 'compatibleAfterMigration', { migrated: [{ n: 300 }] }),
    spec('i32 > i64', s('1: i32 n'), [{ n: -7 }], s('1: i64 n'), 'compatibleAfterMigration', { migrated: [{ n: -7n }] }),
    spec('i32 > i64 in a list of structs', 'struct I { 1: i32 q } struct S { 1: list<I> items }', [{ items: [{ q: 2 }] }], 'struct I { 1: i64 q } struct S { 1: list<I> items }', 'compatibleAfterMigration', { migrated: [{ items: [{ q: 2n }] }] }),
    spec('map values widened', s('1: map<string, i16> m'), [{ m: new Map([['a', 1]]) }], s('1: map<string, i64> m'), 'compatibleAfterMigration', { migrated: [{ m: new Map([['a', 1n]]) }] }),
    spec('string > binary', s('1: string a'), [{ a: 'ab' }], s('1: binary a'), 'compatibleAsIs', { migrated: [{ a: new Uint8Array([97, 98]) }] }),
    spec('binary > string', s('1: binary a'), [{ a: new Uint8Array([97]) }], s('1: string a'), 'compatibleAsIs', { migrated: [{ a: 'a' }] }),
    spec('enum > i32', s('1: E e'), [{ e: 'B' }], s('1: i32 e'), 'compatibleAsIs', { migrated: [{ e: 1 }] }),
    spec('i32 > enum', s('1: i32 e'), [{ e: 1 }], s('1: E e'), 'compatibleAsIs', { migrated: [{ e: 'B' }] }),
    spec('i64 > i32 (narrowing)', s('1: i64 n'), [{ n: 1n }], s('1: i32 n'), 'incompatible', { paths: ['S.n (#1)'] }),
    spec('string > i32', s('1: string a'), [{ a: 'x' }], s('1: i32 a'), 'incompatible', { paths: ['S.a (#1)'] }),
    spec('list > set', s('1: list<i32> a'), [{ a: [1] }], s('1: set<i32> a'), 'incompatible'),
    spec('binary > string: checked per value', s('1: binary a'), [{ a: new Uint8Array([0xc3, 0xa9]) }], s('1: string a'), 'compatibleAsIs', { migrated: [{ a: 'é' }], paths: ['S.a (#1)'] }),
    spec('enum value renamed', s('1: E e'), [{ e: 'B' }], 'enum E { A = 0, C = 1 } struct S { 1: E e }', 'compatibleAsIs', { migrated: [{ e: 'C' }], paths: ['S.e (#1)'] }),
    spec('enum value added', s('1: E e'), [{ e: 'B' }], 'enum E { A = 0, B = 1, C = 2 } struct S { 1: E e }', 'compatibleAsIs'),
    spec('enum loses a number: refused', s('1: E e'), [{ e: 'B' }], 'enum E { A = 0 } struct S { 1: E e }', 'incompatible', { paths: ['S.e (#1)'] }),
    spec('default changed: stored structs keep the old default', s('1: optional i32 d = 5, 2: string a'), [{ d: 5, a: 'x' }], s('1: optional i32 d = 7, 2: string a'), 'compatibleAfterMigration', { migrated: [{ d: 5, a: 'x' }], paths: ['S.d (#1)'], previousBytes: [encode(thrift(s('2: string a'), 'S'), { a: 'x' })] }), // bytes that lack d
    spec('union member removed: refused', 'union U { 1: i32 a, 2: string b } struct S { 1: U u }', [{ u: { a: null, b: 'x' } }], 'union U { 1: i32 a } struct S { 1: U u }', 'incompatible', { paths: ['U.b (#2)'] }),
    spec('union member added', 'union U { 1: i32 a } struct S { 1: U u }', [{ u: { a: 1 } }], 'union U { 1: i32 a, 2: string b } struct S { 1: U u }', 'compatibleAsIs', { migrated: [{ u: { a: 1, b: null } }] }),
    spec('struct made a union: refused', 'struct I { 1: optional i32 a, 2: optional i32 b } struct S { 1: I i }', [{ i: { a: 1, b: 2 } }], 'union I { 1: i32 a, 2: i32 b } struct S { 1: I i }', 'incompatible', { paths: ['S.i (#1)'] }),
    spec('protocol binary > compact', s('1: string a, 2: i64 b'), [{ a: 'x', b: 5n }], s('1: string a, 2: i64 b'), 'compatibleAfterMigration', { paths: [''] }, ['binary', 'compact']),
    spec('protocol compact > binary with a widening', s('1: i32 b'), [{ b: 5 }], s('1: i64 b'), 'compatibleAfterMigration', { migrated: [{ b: 5n }] }, ['compact', 'binary']),
  ],
});

goldenSuite({
  test,
  dir: fileURLToPath(new URL('./golden', import.meta.url)),
  cases: {
    'thrift-order-binary': { serializer: order('binary'), samples: [fromPython] },
    'thrift-order-compact': { serializer: order('compact'), samples: [fromPython] },
  },
});
