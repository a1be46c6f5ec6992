import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import { DataInput, EncodeError, SchemaError, type CompatibilityType } from '@stateshift/core';
import { decode, encode, goldenSuite, serializerSuite, upgradeSuite, type UpgradeSpec } from '@stateshift/core/testing';
import { avro } from '../src/index.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const orderSchema = JSON.parse(readFileSync(fixture('order.avsc'), 'utf8'));

const order = (i: number) => ({
  orderId: `o-${i}`,
  userId: 'u',
  createTs: BigInt(i) * 1000n,
  amount: i / 4,
  status: 'PAID',
  items: [{ sku: 's', qty: i }],
  tags: new Map([['k', 'v']]),
  note: i % 2 ? null : 'n',
  checksum: new Uint8Array([1, 2, 3, i & 255]),
});

serializerSuite({
  test,
  fc,
  name: 'avro Order',
  factory: () => avro(orderSchema),
  samples: [order(0), order(1), { ...order(2), createTs: -(1n << 63n), items: [], tags: new Map() }],
  invalid: [null, 'x', { ...order(1), createTs: 5 }, { ...order(1), status: 'LOST' }],
  arbitrary: (f) => {
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
        note: c.option(c.string(), { nil: null }),
        checksum: c.uint8Array({ minLength: 4, maxLength: 4 }),
      },
      { noNullPrototype: true },
    );
  },
});

test('records written by Debian python3-avro read back', () => {
  const serializer = avro(orderSchema);
  const read = (i: number) => serializer.deserialize(new DataInput(new Uint8Array(readFileSync(fixture(`order-${i}.bin`)))));
  expect(read(0)).toEqual({ orderId: 'o-1', userId: 'joha', createTs: 1_700_000_000_000n, amount: 12.5, status: 'NEW', items: [], tags: new Map(), note: null, checksum: new Uint8Array([0, 1, 2, 3]) });
  expect(read(1)).toMatchObject({ createTs: -(1n << 63n), status: 'SHIPPED', items: [{ sku: 'apple', qty: 3 }, { sku: 'pear', qty: -1 }], tags: new Map([['channel', 'web'], ['ü', '€']]), note: 'leave at the door' });
  // Our bytes are the same datum.
  expect(Buffer.from(encode(serializer, read(1)))).toEqual(readFileSync(fixture('order-1.bin')));
});

test('an invalid value names where it is invalid', () => {
  expect(() => encode(avro(orderSchema), { ...order(1), items: [{ sku: 's', qty: 'x' }] })).toThrow(EncodeError);
  expect(() => encode(avro(orderSchema), { ...order(1), items: [{ sku: 's', qty: 'x' }] })).toThrow(/Order\.items\[0\]\.qty/);
});

test('a field the record does not declare is refused, naming it, not dropped', () => {
  const s = avro(orderSchema);
  expect(() => encode(s, { ...order(1), qty: 3 })).toThrow(EncodeError);
  expect(() => encode(s, { ...order(1), qty: 3 })).toThrow(
    /^Order\.qty: record Order has no field "qty"; its fields are orderId, userId, createTs, amount, status, items, tags, note, checksum\. Declare "qty" in the Avro schema or remove it from the value before update$/,
  );
  // null is a value too (only undefined counts as absent).
  expect(() => encode(s, { ...order(1), qty: null })).toThrow(/^Order\.qty: record Order has no field "qty"/);
  // Nested, in an array and in an optional field: the path leads to it.
  expect(() => encode(s, { ...order(1), items: [{ sku: 's', qty: 1 }, { sku: 's', qty: 1, price: 2 }] })).toThrow(/^Order\.items\[1\]\.price: record Item has no field "price"; its fields are sku, qty\./);
  const child = avro({ type: 'record', name: 'Outer', fields: [{ name: 'inner', type: ['null', { type: 'record', name: 'Inner', fields: [{ name: 'x', type: 'int' }] }] }] } as never);
  expect(() => encode(child, { inner: { x: 1, y: 2 } })).toThrow(/^Outer\.inner\.y: record Inner has no field "y"; its fields are x\./);
});

test('an undeclared key set to undefined, and inherited enumerable keys, are not fields: written without them', () => {
  const s = avro(orderSchema);
  expect(decode(s, encode(s, { ...order(1), qty: undefined }))).toEqual(order(1));
  const inherited = Object.assign(Object.create({ qty: 3 }) as object, order(1));
  expect(decode(s, encode(s, inherited))).toEqual(order(1));
});

test('a union of records picks the branch that declares every field of the value, else refuses naming the field', () => {
  const a = { type: 'record', name: 'A', fields: [{ name: 'x', type: 'int' }] };
  const b = { type: 'record', name: 'B', fields: [{ name: 'x', type: 'int' }, { name: 'y', type: 'int' }] };
  const s = avro({ type: 'record', name: 'R', fields: [{ name: 'u', type: ['string', a, b] }] } as never);
  // Branch B (index 2), not A with y dropped.
  expect(encode(s, { u: { x: 1, y: 2 } })).toEqual(new Uint8Array([4, 2, 4]));
  expect(decode(s, encode(s, { u: { x: 1, y: 2 } }))).toEqual({ u: { x: 1, y: 2 } });
  expect(decode(s, encode(s, { u: { x: 1 } }))).toEqual({ u: { x: 1 } });
  expect(() => encode(s, { u: { x: 1, z: 3 } })).toThrow(/^R\.u\.z: record A has no field "z"; its fields are x\./);
});

test('float: a number beyond its range is refused (it would be Infinity); rounding within it is what float means', () => {
  const s = avro({ type: 'record', name: 'M', fields: [{ name: 'f', type: 'float' }] } as never);
  expect(() => encode(s, { f: 1e40 })).toThrow(EncodeError);
  expect(() => encode(s, { f: 1e40 })).toThrow(/^M\.f: 1e\+40 \(number\) is beyond float's range \(±3\.4028234663852886e\+38\) and would be written as Infinity; use "double" for this field$/);
  expect(() => encode(s, { f: -1e40 })).toThrow(/would be written as -Infinity/);
  expect(() => encode(avro('"float"'), 3.5e38)).toThrow(/3\.5e\+38 \(number\) is beyond float's range/);
  expect(decode(s, encode(s, { f: 3.4e38 }))).toEqual({ f: Math.fround(3.4e38) });
  expect(decode(s, encode(s, { f: 1.1 }))).toEqual({ f: Math.fround(1.1) });
  for (const f of [Infinity, -Infinity, NaN, 3.4028234663852886e38, -0]) expect(decode(s, encode(s, { f }))).toEqual({ f });
  // A union with a double branch takes it instead.
  expect(decode(avro('["float", "double"]'), encode(avro('["float", "double"]'), 1e40))).toBe(1e40);
});

test('an invalid schema is a SchemaError; JSON text works as well as objects', () => {
  expect(() => avro({ type: 'record', name: 'X' } as never)).toThrow(SchemaError);
  expect(() => avro('{not json')).toThrow(SchemaError);
  expect(encode(avro('"string"'), 'a')).toEqual(encode(avro({ type: 'string' } as never), 'a'));
});

// Reader and writer pairs after the specification's schema resolution rules.
const rec = (name: string, fields: object[], extra: object = {}) => ({ type: 'record', name, fields, ...extra });
const f = (name: string, type: unknown, extra: object = {}) => ({ name, type, ...extra });
const person = rec('Person', [f('name', 'string'), f('age', 'int')]);
const gordon = { name: 'Gordon', age: 27 };
const color = (symbols: string[], extra: object = {}) => ({ type: 'enum', name: 'Color', symbols, ...extra });

function pair(name: string, writer: unknown, samples: unknown[], reader: unknown, expect: CompatibilityType, more: Partial<UpgradeSpec> = {}): UpgradeSpec {
  return { name, previous: () => avro(writer as never), samples, next: () => avro(reader as never), expect, ...more };
}

upgradeSuite({
  test,
  name: 'avro resolution',
  specs: [
    pair('identical record', person, [gordon], person, 'compatibleAsIs'),
    pair('same canonical form, doc and default added', person, [gordon], rec('Person', [f('name', 'string', { doc: 'full name' }), f('age', 'int')], { doc: 'x' }), 'compatibleAsIs'),
    pair('int > long', 'int', [5, -1], 'long', 'compatibleAfterMigration', { migrated: [5n, -1n], paths: [''] }),
    pair('int > float (lossy)', 'int', [5], 'float', 'compatibleAfterMigration', { lossy: [''] }),
    pair('int > double', 'int', [5], 'double', 'compatibleAfterMigration'),
    pair('long > float (lossy)', 'long', [5n], 'float', 'compatibleAfterMigration', { migrated: [5], lossy: [''] }),
    pair('long > double (lossy)', 'long', [5n], 'double', 'compatibleAfterMigration', { migrated: [5], lossy: [''] }),
    pair('float > double', 'float', [0.5], 'double', 'compatibleAfterMigration'),
    pair('string > bytes', 'string', ['ab'], 'bytes', 'compatibleAfterMigration', { migrated: [new Uint8Array([97, 98])] }),
    pair('bytes > string', 'bytes', [new Uint8Array([97, 98])], 'string', 'compatibleAfterMigration', { migrated: ['ab'] }),
    pair('long > int (narrowing)', 'long', [5n], 'int', 'incompatible', { paths: [''] }),
    pair('double > float', 'double', [0.5], 'float', 'incompatible'),
    pair('string > int', 'string', ['5'], 'int', 'incompatible'),
    pair('boolean > int', 'boolean', [true], 'int', 'incompatible'),
    pair('field added with default', person, [gordon], rec('Person', [f('name', 'string'), f('age', 'int'), f('city', 'string', { default: 'Berlin' })]), 'compatibleAfterMigration', { migrated: [{ ...gordon, city: 'Berlin' }], paths: ['Person.city'] }),
    pair('field added without default', person, [gordon], rec('Person', [f('name', 'string'), f('age', 'int'), f('city', 'string')]), 'incompatible', { paths: ['Person.city'] }),
    pair('field removed', person, [gordon], rec('Person', [f('name', 'string')]), 'compatibleAfterMigration', { migrated: [{ name: 'Gordon' }], paths: ['Person.age'] }),
    pair('fields reordered', person, [gordon], rec('Person', [f('age', 'int'), f('name', 'string')]), 'compatibleAfterMigration', { migrated: [gordon] }),
    pair('field renamed with an alias', person, [gordon], rec('Person', [f('fullName', 'string', { aliases: ['name'] }), f('age', 'int')]), 'compatibleAfterMigration', { migrated: [{ fullName: 'Gordon', age: 27 }], paths: ['Person.fullName'] }),
    pair('field type widened', person, [gordon], rec('Person', [f('name', 'string'), f('age', 'long')]), 'compatibleAfterMigration', { migrated: [{ name: 'Gordon', age: 27n }], paths: ['Person.age'] }),
    pair('field type changed int > string', person, [gordon], rec('Person', [f('name', 'string'), f('age', 'string')]), 'incompatible', { paths: ['Person.age'] }),
    pair('two fields broken: both named', person, [gordon], rec('Person', [f('name', 'int'), f('age', 'string'), f('city', 'string')]), 'incompatible', { paths: ['Person.name', 'Person.age', 'Person.city'] }),
    pair('record renamed', person, [gordon], rec('Human', [f('name', 'string'), f('age', 'int')]), 'incompatible', { paths: ['Human'] }),
    pair('record renamed with an alias', person, [gordon], rec('Human', [f('name', 'string'), f('age', 'int')], { aliases: ['Person'] }), 'compatibleAfterMigration', { migrated: [gordon] }),
    pair('namespace changed, same unqualified name', person, [gordon], { ...person, namespace: 'org.people' }, 'compatibleAfterMigration', { migrated: [gordon] }),
    pair('enum symbol added', color(['RED', 'GREEN']), ['GREEN'], color(['RED', 'GREEN', 'BLUE']), 'compatibleAfterMigration'),
    pair('enum symbols reordered', color(['RED', 'GREEN']), ['GREEN', 'RED'], color(['GREEN', 'RED']), 'compatibleAfterMigration'),
    pair('enum symbol removed without default', color(['RED', 'GREEN', 'BLUE']), ['RED'], color(['RED', 'GREEN']), 'incompatible', { paths: ['Color'] }),
    pair('enum symbol removed with a default', color(['RED', 'GREEN', 'BLUE']), ['RED', 'BLUE'], color(['RED', 'GREEN'], { default: 'RED' }), 'compatibleAfterMigration', { migrated: ['RED', 'RED'], lossy: ['Color'] }),
    pair('array items widened', { type: 'array', items: 'int' }, [[1, 2]], { type: 'array', items: 'long' }, 'compatibleAfterMigration', { migrated: [[1n, 2n]], paths: ['[]'] }),
    pair('array items changed', { type: 'array', items: 'int' }, [[1]], { type: 'array', items: 'string' }, 'incompatible', { paths: ['[]'] }),
    pair('map values widened', { type: 'map', values: 'float' }, [new Map([['a', 0.5]])], { type: 'map', values: 'double' }, 'compatibleAfterMigration', { paths: ['{value}'] }),
    pair('non-union > union containing it', 'string', ['a'], ['null', 'string'], 'compatibleAfterMigration'),
    pair('non-union > union by promotion', 'int', [3], ['null', 'long'], 'compatibleAfterMigration', { migrated: [3n] }),
    pair('long > union of double and long: the exact branch', 'long', [(1n << 62n) + 1n], ['double', 'long'], 'compatibleAfterMigration', { migrated: [(1n << 62n) + 1n] }),
    pair('int > union of float and double: the lossless promotion', 'int', [16777217], ['float', 'double'], 'compatibleAfterMigration', { migrated: [16777217] }),
    pair('long > union of float only (lossy)', 'long', [5n], ['null', 'float'], 'compatibleAfterMigration', { migrated: [5], lossy: [''] }),
    pair('recursive record with a union of itself', rec('Node', [f('v', 'long'), f('next', ['null', 'Node'])]), [{ v: 1n, next: { v: 2n, next: null } }], rec('Node', [f('v', ['double', 'long']), f('next', ['null', 'Node'])]), 'compatibleAfterMigration'),
    pair('union > union with a branch added', ['null', 'string'], [null, 'a'], ['null', 'string', 'int'], 'compatibleAfterMigration'),
    pair('union > its only used branch type', ['null', 'string'], ['a'], 'string', 'incompatible'),
    pair('non-union > union without it', 'boolean', [true], ['null', 'string'], 'incompatible'),
    pair('fixed size changed', { type: 'fixed', name: 'H', size: 4 }, [new Uint8Array(4)], { type: 'fixed', name: 'H', size: 8 }, 'incompatible'),
    pair('fixed renamed', { type: 'fixed', name: 'H', size: 4 }, [new Uint8Array(4)], { type: 'fixed', name: 'G', size: 4 }, 'incompatible'),
    pair('nested record field widened', rec('Order', [f('item', rec('Item', [f('qty', 'int')]))]), [{ item: { qty: 2 } }], rec('Order', [f('item', rec('Item', [f('qty', 'long')]))]), 'compatibleAfterMigration', { migrated: [{ item: { qty: 2n } }], paths: ['Order.item.qty'] }),
    pair('avro > a record of another kind', person, [gordon], 'string', 'incompatible'),
    pair('decimal scale changed: refused', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }, [new Uint8Array([1, 2])], { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 3 }, 'incompatible', { paths: [''] }),
    pair('decimal precision widened', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }, [new Uint8Array([1, 2])], { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 }, 'compatibleAsIs', { paths: [''] }),
    pair('decimal precision narrowed: refused', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }, [new Uint8Array([1, 2])], { type: 'bytes', logicalType: 'decimal', precision: 8, scale: 2 }, 'incompatible'),
    pair('timestamp-micros > timestamp-millis: refused', rec('E', [f('at', { type: 'long', logicalType: 'timestamp-micros' })]), [{ at: 5n }], rec('E', [f('at', { type: 'long', logicalType: 'timestamp-millis' })]), 'incompatible', { paths: ['E.at'] }),
    pair('logical type added to a long', rec('E', [f('at', 'long')]), [{ at: 1n << 60n }], rec('E', [f('at', { type: 'long', logicalType: 'timestamp-millis' })]), 'compatibleAsIs', { paths: ['E.at'] }),
    pair('{ "type": "long" } is a bigint long too', { type: 'long' }, [(1n << 62n) + 1n], { type: 'long' }, 'compatibleAsIs'),
  ],
});

goldenSuite({
  test,
  dir: fileURLToPath(new URL('./golden', import.meta.url)),
  cases: {
    'avro-order': { serializer: () => avro(orderSchema), samples: [order(1)] },
    'avro-person': { serializer: () => avro(person as never), samples: [gordon] },
  },
});
