/**
 * The conformance kit. Every serializer runs `serializerSuite`, every evolution rule an
 * `upgradeSuite` spec, and every snapshot layout a `goldenSuite` case. Pass your runner's `test`.
 *
 * ```ts
 * import { test } from 'vitest';
 * import * as fc from 'fast-check';
 * import { serializerSuite } from '@stateshift/core/testing';
 * serializerSuite({ test, fc, name: 'string', factory: () => string(), samples: ['', 'a'], arbitrary: (fc) => fc.string() });
 * ```
 *
 * @module @stateshift/core/testing
 */
export { serializerSuite, type SerializerSuiteOptions, type FastCheckLike } from './roundtrip.js';
export { upgradeSuite, resolveSpec, type UpgradeSpec, type UpgradeSuiteOptions } from './upgrade.js';
export { goldenSuite, writeGolden, type GoldenCase, type GoldenSuiteOptions } from './golden.js';
export { decode, encode, defaultEquals, type EqualsFn, type TestFn } from './common.js';
export { valuesSuite, sampleValue, invalidRows, type ValuesSuiteOptions, type ValuesSupport } from './values.js';
export { decoderFuzzSuite, HUGE_PREFIXES, type DecoderFuzzOptions } from './fuzz.js';
