import { fileURLToPath } from 'node:url';
import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  DataInput,
  EncodeError,
  enumeration,
  float64,
  int32,
  int64,
  list,
  map,
  nullable,
  readerFor,
  resolveSchemaCompatibility,
  snapshotFromBytes,
  snapshotToBytes,
  string,
  type Serializer,
} from '@stateshift/core';
import { decode, encode, goldenSuite, serializerSuite, upgradeSuite } from '@stateshift/core/testing';
import { pojo } from '../src/index.js';

// Flink's PojoSerializer upgrade scenarios use a Person type written as ("Gordon", 27).
const personV1 = () => pojo('Person', { name: string(), age: int32() });
const gordon = { name: 'Gordon', age: 27 };

const order = () =>
  pojo('Order', {
    orderId: string(),
    userId: string(),
    createTs: int64(),
    items: list(pojo('Item', { sku: string(), qty: int32() })),
    tags: map(string(), string()),
    note: nullable(string()),
    status: enumeration('Status', ['NEW', 'PAID']),
  });

serializerSuite({
  test,
  fc,
  name: 'pojo Order',
  factory: order,
  samples: [
    { orderId: '', userId: '', createTs: 0n, items: [], tags: new Map(), note: null, status: 'NEW' },
    { orderId: 'o-1', userId: 'u-1', createTs: 1_700_000_000_000n, items: [{ sku: 'a', qty: 2 }], tags: new Map([['k', 'v']]), note: 'x', status: 'PAID' },
  ],
  // A nullable field left out reads back as null.
  reshaped: [{ orderId: 'o-1', userId: 'u-1', createTs: 1n, items: [], tags: new Map(), status: 'NEW' }],
  invalid: [null, 'order', { orderId: 'o-1' }, { orderId: 1, userId: '', createTs: 0n, items: [], tags: new Map(), note: null, status: 'NEW' }],
  arbitrary: (f) => {
    const c = f as typeof fc;
    return c.record({
      orderId: c.string(),
      userId: c.string(),
      createTs: c.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
      items: c.array(c.record({ sku: c.string(), qty: c.integer() }, { noNullPrototype: true })),
      tags: c.uniqueArray(c.tuple(c.string(), c.string()), { selector: (e) => e[0] }).map((e) => new Map(e)),
      note: c.option(c.string(), { nil: null }),
      status: c.constantFrom('NEW', 'PAID'),
    }, { noNullPrototype: true });
  },
});

upgradeSuite({
  test,
  name: 'pojo (Flink PojoSerializerUpgradeTest scenarios)',
  specs: [
    { name: 'identical schema', previous: personV1, samples: [gordon], next: personV1, expect: 'compatibleAsIs' },
    {
      name: 'fields added and removed',
      previous: () => pojo('Person', { name: string(), age: int32(), city: string() }),
      samples: [{ ...gordon, city: 'Berlin' }],
      next: () => pojo('Person', { name: string(), age: int32(), height: float64(), nickname: { serializer: string(), default: 'none' }, tags: list(string()), spouse: nullable(string()) }),
      expect: 'compatibleAfterMigration',
      migrated: [{ ...gordon, height: 0, nickname: 'none', tags: [], spouse: null }],
      paths: ['Person.city', 'Person.height', 'Person.nickname'],
    },
    {
      name: 'field type int to string',
      previous: personV1, samples: [gordon],
      next: () => pojo('Person', { name: string(), age: string() }),
      expect: 'incompatible', paths: ['Person.age'],
    },
    {
      name: 'two stored fields read into one by an alias: refused, one would be lost',
      previous: () => pojo('Person', { name: string(), fullName: string(), age: int32() }),
      samples: [{ name: 'G', fullName: 'Gordon', age: 27 }],
      next: () => pojo('Person', { fullName: { serializer: string(), aliases: ['name'] }, age: int32() }),
      expect: 'incompatible', paths: ['Person.fullName'],
    },
    { name: 'renamed type', previous: personV1, samples: [gordon], next: () => pojo('Human', { name: string(), age: int32() }), expect: 'incompatible', paths: ['Human'] },
    {
      name: 'renamed type with alias',
      previous: personV1, samples: [gordon],
      next: () => pojo('Human', { name: string(), age: int32() }, { aliases: ['Person'] }),
      expect: 'compatibleAsIs', paths: ['Human'],
    },
  ],
});

/** int32 without a zero value, as a third-party serializer might be. */
const noZero = (): Serializer<number> => ({
  kind: 'core.int32',
  serialize: (v, out) => int32().serialize(v, out),
  deserialize: (input) => int32().deserialize(input),
  snapshot: () => int32().snapshot(),
});

upgradeSuite({
  test,
  name: 'pojo rules',
  specs: [
    { name: 'field widened int32 > int64', previous: personV1, samples: [gordon], next: () => pojo('Person', { name: string(), age: int64() }), expect: 'compatibleAfterMigration', migrated: [{ name: 'Gordon', age: 27n }], paths: ['Person.age'] },
    {
      name: 'field renamed with alias',
      previous: personV1, samples: [gordon],
      next: () => pojo('Person', { fullName: { serializer: string(), aliases: ['name'] }, age: int32() }),
      expect: 'compatibleAfterMigration', migrated: [{ fullName: 'Gordon', age: 27 }], paths: ['Person.fullName'],
    },
    { name: 'field renamed without alias', previous: personV1, samples: [gordon], next: () => pojo('Person', { fullName: string(), age: int32() }), expect: 'compatibleAfterMigration', migrated: [{ fullName: '', age: 27 }] },
    {
      name: 'field order only',
      previous: personV1, samples: [gordon],
      next: () => pojo('Person', { age: int32(), name: string() }),
      expect: 'compatibleWithReconfiguredSerializer',
    },
    {
      name: 'field added with neither default nor zero',
      previous: personV1, samples: [gordon],
      next: () => pojo('Person', { name: string(), age: int32(), rank: noZero() }),
      expect: 'incompatible', paths: ['Person.rank'],
    },
    {
      name: 'nested pojo field widened',
      previous: () => pojo('Order', { item: pojo('Item', { qty: int32() }) }),
      samples: [{ item: { qty: 2 } }],
      next: () => pojo('Order', { item: pojo('Item', { qty: int64() }) }),
      expect: 'compatibleAfterMigration', migrated: [{ item: { qty: 2n } }], paths: ['Order.item.Item.qty'],
    },
    {
      name: 'list of pojos, element field type changed',
      previous: () => pojo('Order', { items: list(pojo('Item', { qty: int32() })) }),
      samples: [{ items: [{ qty: 2 }] }],
      next: () => pojo('Order', { items: list(pojo('Item', { qty: string() })) }),
      expect: 'incompatible', paths: ['Order.items[].Item.qty'],
    },
    {
      name: 'enum field gains a symbol',
      previous: () => pojo('Order', { status: enumeration('Status', ['NEW', 'PAID']) }),
      samples: [{ status: 'PAID' }],
      next: () => pojo('Order', { status: enumeration('Status', ['NEW', 'PAID', 'SHIPPED']) }),
      expect: 'compatibleWithReconfiguredSerializer',
    },
    { name: 'pojo > string', previous: personV1, samples: [gordon], next: string, expect: 'incompatible' },
  ],
});

test('a missing or wrong field is an EncodeError naming Type.field', () => {
  expect(() => encode(personV1(), { name: 'Gordon' } as never)).toThrow(EncodeError);
  expect(() => encode(personV1(), { name: 'Gordon' } as never)).toThrow(/Person\.age: field is missing/);
  expect(() => encode(order(), { orderId: 'o', userId: 'u', createTs: 0n, items: [{ sku: 's', qty: 'x' }], tags: new Map(), note: null, status: 'NEW' } as never)).toThrow(
    /Order\.items\[0\]\.Item\.qty/,
  );
});

test('a field the pojo does not declare is refused, naming it, not dropped', () => {
  const s = pojo('Order', { orderId: string() });
  expect(() => encode(s, { orderId: 'a', qty: 3 } as never)).toThrow(EncodeError);
  expect(() => encode(s, { orderId: 'a', qty: 3 } as never)).toThrow(
    /^Order\.qty: pojo Order has no field "qty"; its fields are orderId\. Declare "qty" in pojo\('Order', \.\.\.\) or remove it from the value before update$/,
  );
  // null is a value too (only undefined counts as absent).
  expect(() => encode(s, { orderId: 'a', qty: null } as never)).toThrow(/Order\.qty: pojo Order has no field "qty"/);
  // Nested: the path leads to it.
  const nested = { orderId: 'o', userId: 'u', createTs: 0n, items: [{ sku: 's', qty: 1, price: 2 }], tags: new Map(), note: null, status: 'NEW' };
  expect(() => encode(order(), nested as never)).toThrow(/^Order\.items\[0\]\.Item\.price: pojo Item has no field "price"; its fields are sku, qty\./);
  const inner = pojo('Outer', { inner: nullable(pojo('Inner', { x: int32() })) });
  expect(() => encode(inner, { inner: { x: 1, y: 2 } } as never)).toThrow(/^Outer\.inner\.Inner\.y: pojo Inner has no field "y"/);
});

test('an undeclared key set to undefined, and inherited enumerable keys, are not fields: written without them', () => {
  const s = pojo('Order', { orderId: string() });
  expect(decode(s, encode(s, { orderId: 'a', qty: undefined } as never))).toEqual({ orderId: 'a' });
  const inherited = Object.assign(Object.create({ qty: 3 }) as object, { orderId: 'a' });
  expect(decode(s, encode(s, inherited as never))).toEqual({ orderId: 'a' });
});

test('class option: an own property of an instance the pojo does not declare is refused', () => {
  class Person {
    name = '';
    age = 0;
    cache = new Map();
  }
  const serializer = pojo<Person>('Person', { name: string(), age: int32() }, { class: Person });
  expect(() => encode(serializer, Object.assign(new Person(), gordon))).toThrow(/^Person\.cache: pojo Person has no field "cache"; its fields are name, age\./);
});

test('class option: values read back as instances of the class', () => {
  class Person {
    name = '';
    age = 0;
    greet() {
      return `hi ${this.name}`;
    }
  }
  const serializer = pojo<Person>('Person', { name: string(), age: int32() }, { class: Person });
  const value = serializer.deserialize(new DataInput(encode(serializer, Object.assign(new Person(), gordon))));
  expect(value).toBeInstanceOf(Person);
  expect(value.greet()).toBe('hi Gordon');
  // A migrated read makes instances too.
  const v2 = pojo<Person>('Person', { name: string(), age: int32(), city: string() }, { class: Person });
  const result = resolveSchemaCompatibility(v2.snapshot(), snapshotFromBytes(snapshotToBytes(personV1().snapshot())));
  const migrated = readerFor(result, v2).deserialize(new DataInput(encode(personV1(), gordon)));
  expect(migrated).toBeInstanceOf(Person);
  expect(migrated).toMatchObject({ ...gordon, city: '' });
});

test('bad declarations are refused', () => {
  expect(() => pojo('', { a: string() })).toThrow(TypeError);
  expect(() => pojo('T', {})).toThrow(/at least one field/);
  expect(() => pojo('T', { a: 'string' as never })).toThrow(/field "a" needs a serializer/);
});

test('describe lists the fields and their types', () => {
  expect(personV1().snapshot().describe()).toEqual({
    type: 'pojo',
    name: 'Person',
    fields: [
      { name: 'name', type: { type: 'string' } },
      { name: 'age', type: { type: 'int32' } },
    ],
  });
});

goldenSuite({
  test,
  dir: fileURLToPath(new URL('./golden', import.meta.url)),
  cases: {
    'pojo-person': { serializer: personV1, samples: [gordon] },
    'pojo-order': {
      serializer: order,
      samples: [{ orderId: 'o-1', userId: 'u-1', createTs: 5n, items: [{ sku: 'a', qty: 2 }], tags: new Map([['k', 'v']]), note: null, status: 'PAID' }],
    },
  },
});
