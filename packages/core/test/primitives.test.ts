import * as fc from 'fast-check';
import { test } from 'vitest';
import { boolean, bytes, float64, int32, int64, string } from '../src/index.js';
import { serializerSuite, upgradeSuite } from '../src/testing/index.js';

serializerSuite({
  test, fc, name: 'string', factory: string,
  samples: ['', 'a', 'orderId', 'ü€𝄞', 'x'.repeat(300)],
  invalid: [1, null, undefined, 1n],
  arbitrary: (f) => (f as typeof fc).string({ unit: 'binary' }),
});
serializerSuite({ test, fc, name: 'boolean', factory: boolean, samples: [true, false], invalid: [0, 'true'], arbitrary: (f) => (f as typeof fc).boolean() });
serializerSuite({
  test, fc, name: 'int32', factory: int32,
  samples: [0, 1, -1, 2147483647, -2147483648, 300],
  invalid: [2147483648, 1.5, '1', 1n, NaN],
  arbitrary: (f) => (f as typeof fc).integer(),
});
serializerSuite({
  test, fc, name: 'int64', factory: int64,
  samples: [0n, 1n, -1n, (1n << 63n) - 1n, -(1n << 63n)],
  invalid: [1, 1n << 63n, '1'],
  arbitrary: (f) => (f as typeof fc).bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
});
serializerSuite({
  test, fc, name: 'float64', factory: float64,
  samples: [0, -0, 1.5, Number.MAX_VALUE, -Infinity, NaN],
  invalid: ['1', 1n],
  arbitrary: (f) => (f as typeof fc).double(),
});
serializerSuite({
  test, fc, name: 'bytes', factory: bytes,
  samples: [new Uint8Array(), new Uint8Array([0, 255, 7])],
  invalid: ['ab', [1, 2]],
  arbitrary: (f) => (f as typeof fc).uint8Array(),
});

upgradeSuite({
  test,
  name: 'primitives',
  specs: [
    { name: 'int32 > int64', previous: int32, samples: [0, -5, 2147483647], next: int64, expect: 'compatibleAfterMigration', migrated: [0n, -5n, 2147483647n] },
    { name: 'int32 > float64', previous: int32, samples: [0, -5], next: float64, expect: 'compatibleAfterMigration' },
    { name: 'int64 > float64', previous: int64, samples: [3n, 1n << 60n], next: float64, expect: 'compatibleAfterMigration', migrated: [3, 2 ** 60], lossy: [''] },
    { name: 'int64 > int32', previous: int64, samples: [3n], next: int32, expect: 'incompatible', paths: [''] },
    { name: 'string > int32', previous: string, samples: ['a'], next: int32, expect: 'incompatible', paths: [''] },
    { name: 'string > string', previous: string, samples: ['a'], next: string, expect: 'compatibleAsIs' },
  ],
});
