import { fileURLToPath } from 'node:url';
import { test } from 'vitest';
import { boolean, bytes, enumeration, float64, int32, int64, list, map, nullable, string, ttl, tuple } from '../src/index.js';
import { goldenSuite } from '../src/testing/index.js';

// Snapshot layouts and value encodings as this release writes them. Never regenerate a file to make
// a test pass: a failure means today's code can no longer read savepoints users already have.
goldenSuite({
  test,
  dir: fileURLToPath(new URL('./golden', import.meta.url)),
  cases: {
    string: { serializer: string, samples: ['', 'orderId', 'ü€𝄞'] },
    boolean: { serializer: boolean, samples: [true, false] },
    int32: { serializer: int32, samples: [0, -1, 2147483647, -2147483648] },
    int64: { serializer: int64, samples: [0n, -1n, (1n << 63n) - 1n, -(1n << 63n)] },
    float64: { serializer: float64, samples: [0, -1.5, Number.MAX_VALUE] },
    bytes: { serializer: bytes, samples: [new Uint8Array(), new Uint8Array([0, 255])] },
    enumeration: { serializer: () => enumeration('Status', ['NEW', 'PAID', 'SHIPPED']), samples: ['NEW', 'SHIPPED'] },
    list: { serializer: () => list(int64()), samples: [[], [1n, -2n]] },
    map: { serializer: () => map(string(), int32()), samples: [new Map(), new Map([['a', 1]])] },
    nullable: { serializer: () => nullable(string()), samples: [null, 'x'] },
    tuple: { serializer: () => tuple(string(), int64(), boolean()), samples: [['u-1', 3n, true]] },
    ttl: { serializer: () => ttl(int32()), samples: [{ value: 5, timestamp: 1_700_000_000_000 }] },
  },
});
