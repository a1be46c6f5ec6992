import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import { EncodeError, enumeration, float64, int32, int64, list, map, nullable, string, tuple } from '../src/index.js';
import { encode, serializerSuite, upgradeSuite } from '../src/testing/index.js';

const color = () => enumeration('Color', ['RED', 'GREEN', 'BLUE']);

serializerSuite({
  test, fc, name: 'enumeration', factory: color,
  samples: ['RED', 'GREEN', 'BLUE'],
  invalid: ['PINK', 0, null],
  arbitrary: (f) => (f as typeof fc).constantFrom('RED', 'GREEN', 'BLUE'),
});
serializerSuite({
  test, fc, name: 'list(int32)', factory: () => list(int32()),
  samples: [[], [0], [1, -2, 2147483647], Array.from({ length: 200 }, (_, i) => i)],
  invalid: ['[1]', [1.5], new Set([1])],
  arbitrary: (f) => (f as typeof fc).array((f as typeof fc).integer()),
});
serializerSuite({
  test, fc, name: 'map(string, int64)', factory: () => map(string(), int64()),
  samples: [new Map(), new Map([['a', 1n], ['', -1n]])],
  invalid: [{ a: 1n }, new Map([['a', 1]]), new Map([[1, 1n]])],
  arbitrary: (f) => {
    const c = f as typeof fc;
    return c.uniqueArray(c.tuple(c.string(), c.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })), { selector: (e) => e[0] }).map((e) => new Map(e));
  },
});
serializerSuite({
  test, fc, name: 'tuple(string, float64, nullable(int32))', factory: () => tuple(string(), float64(), nullable(int32())),
  samples: [['', 0, null], ['x', -1.5, 7]],
  reshaped: [['x', 1, undefined], ['x', -0, -0]],
  invalid: [['x', 1], ['x', 1, 1, 1], 'x', [1, 1, null]],
  arbitrary: (f) => {
    const c = f as typeof fc;
    return c.tuple(c.string(), c.double(), c.option(c.integer(), { nil: null }));
  },
});
serializerSuite({
  test, fc, name: 'nullable(string)', factory: () => nullable(string()),
  samples: [null, '', 'a'],
  reshaped: [undefined],
  invalid: [1],
  arbitrary: (f) => (f as typeof fc).option((f as typeof fc).string(), { nil: null }),
});
serializerSuite({
  test, fc, name: 'list(map(string, list(nullable(float64))))', factory: () => list(map(string(), list(nullable(float64())))),
  samples: [[], [new Map([['k', [1, null]]])]],
  reshaped: [[new Map([['k', [undefined, -0]]])]],
  invalid: [[new Map([['k', [1, 'x']]])]],
});

test('zero values: empty list and map, null, first symbol, zeros of tuple items', () => {
  expect(list(int32()).zero?.()).toEqual([]);
  expect(map(string(), int32()).zero?.()).toEqual(new Map());
  expect(nullable(int32()).zero?.()).toBeNull();
  expect(color().zero?.()).toBe('RED');
  expect(tuple(string(), int64()).zero?.()).toEqual(['', 0n]);
});

test('an encode error inside a composite names where the bad value sits', () => {
  expect(() => encode(list(map(string(), int32())), [new Map(), new Map([['k', 'x']])])).toThrow(EncodeError);
  expect(() => encode(list(map(string(), int32())), [new Map(), new Map([['k', 'x']])])).toThrow(/\[1\]\{value\}: expected an integer/);
});

test('enumeration refuses bad declarations', () => {
  expect(() => enumeration('E', [])).toThrow(TypeError);
  expect(() => enumeration('E', ['A', 'A'])).toThrow(/twice/);
});

upgradeSuite({
  test,
  name: 'enumeration',
  specs: [
    { name: 'same symbols', previous: color, samples: ['RED', 'BLUE'], next: color, expect: 'compatibleAsIs' },
    {
      name: 'symbol appended',
      previous: color, samples: ['RED', 'BLUE'],
      next: () => enumeration('Color', ['RED', 'GREEN', 'BLUE', 'BLACK']),
      expect: 'compatibleWithReconfiguredSerializer',
    },
    {
      name: 'symbols reordered and one added',
      previous: color, samples: ['RED', 'GREEN', 'BLUE'],
      next: () => enumeration('Color', ['BLACK', 'BLUE', 'RED', 'GREEN']),
      expect: 'compatibleWithReconfiguredSerializer',
    },
    { name: 'symbol removed', previous: color, samples: ['RED'], next: () => enumeration('Color', ['RED', 'BLUE']), expect: 'incompatible', paths: [''] },
    { name: 'enum renamed', previous: color, samples: ['RED'], next: () => enumeration('Colour', ['RED', 'GREEN', 'BLUE']), expect: 'incompatible' },
    { name: 'enum to string', previous: color, samples: ['RED'], next: string, expect: 'incompatible' },
  ],
});

upgradeSuite({
  test,
  name: 'composites',
  specs: [
    { name: 'list(int32) > list(int32)', previous: () => list(int32()), samples: [[1, 2]], next: () => list(int32()), expect: 'compatibleAsIs' },
    {
      name: 'list(int32) > list(int64)',
      previous: () => list(int32()), samples: [[], [1, -2]],
      next: () => list(int64()), expect: 'compatibleAfterMigration', migrated: [[], [1n, -2n]], paths: ['[]'],
    },
    {
      name: 'list(nullable(int32)) > list(nullable(int64))',
      previous: () => list(nullable(int32())), samples: [[1, null]],
      next: () => list(nullable(int64())), expect: 'compatibleAfterMigration', migrated: [[1n, null]],
    },
    { name: 'list(int32) > list(string)', previous: () => list(int32()), samples: [[1]], next: () => list(string()), expect: 'incompatible', paths: ['[]'] },
    { name: 'list(int32) > int32', previous: () => list(int32()), samples: [[1]], next: int32, expect: 'incompatible' },
    {
      name: 'map value enum symbol removed',
      previous: () => map(string(), color()), samples: [new Map([['a', 'RED']])],
      next: () => map(string(), enumeration('Color', ['RED'])), expect: 'incompatible', paths: ['{value}'],
    },
    {
      name: 'map value enum symbol appended',
      previous: () => map(string(), color()), samples: [new Map([['a', 'BLUE']])],
      next: () => map(string(), enumeration('Color', ['RED', 'GREEN', 'BLUE', 'BLACK'])), expect: 'compatibleWithReconfiguredSerializer', paths: ['{value}'],
    },
    {
      name: 'map key int32 > int64, value as is',
      previous: () => map(int32(), string()), samples: [new Map([[1, 'a']])],
      next: () => map(int64(), string()), expect: 'compatibleAfterMigration', migrated: [new Map([[1n, 'a']])], paths: ['{key}'],
    },
    {
      name: 'migration wins over reconfiguration',
      previous: () => tuple(int32(), color()), samples: [[1, 'BLUE']],
      next: () => tuple(int64(), enumeration('Color', ['BLUE', 'RED', 'GREEN'])), expect: 'compatibleAfterMigration', migrated: [[1n, 'BLUE']], paths: ['[0]', '[1]'],
    },
    {
      name: 'every incompatible part is listed',
      previous: () => tuple(int32(), string()), samples: [[1, 'a']],
      next: () => tuple(string(), int32()), expect: 'incompatible', paths: ['[0]', '[1]'],
    },
    { name: 'tuple arity changed', previous: () => tuple(int32(), string()), samples: [[1, 'a']], next: () => tuple(int32()), expect: 'incompatible' },
    { name: 'int32 > nullable(int32)', previous: int32, samples: [0, 5], next: () => nullable(int32()), expect: 'compatibleAfterMigration' },
    { name: 'int32 > nullable(int64)', previous: int32, samples: [5], next: () => nullable(int64()), expect: 'compatibleAfterMigration', migrated: [5n] },
    { name: 'string > nullable(int32)', previous: string, samples: ['a'], next: () => nullable(int32()), expect: 'incompatible' },
    { name: 'nullable(int32) > int32', previous: () => nullable(int32()), samples: [null, 1], next: int32, expect: 'incompatible', paths: [''] },
    { name: 'nullable(int32) > nullable(float64)', previous: () => nullable(int32()), samples: [null, 1], next: () => nullable(float64()), expect: 'compatibleAfterMigration' },
  ],
});
