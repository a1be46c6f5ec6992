/**
 * The round-trip suite: samples and fast-check arbitraries survive serialize then deserialize,
 * values self-delimit, truncated bytes throw DecodeError (never a value), invalid values throw
 * EncodeError, and the snapshot survives framing and the registry.
 */
import { DataInput, DataOutput } from '../bytes.js';
import type { Serializer } from '../contract.js';
import { copierOf } from '../copy.js';
import { DecodeError, StateshiftError } from '../errors.js';
import { snapshotFromBytes, snapshotToBytes } from '../registry.js';
import { resolveSchemaCompatibility } from '../resolve.js';
import { decode, defaultEquals, encode, fail, show, type EqualsFn, type TestFn } from './common.js';

/** The subset of fast-check the kit uses; pass the fast-check module itself. */
export interface FastCheckLike {
  assert(property: unknown, params?: { numRuns?: number; seed?: number }): unknown;
  property(...args: unknown[]): unknown;
}

export interface SerializerSuiteOptions<T> {
  test: TestFn;
  /** Shown in every test name. */
  name: string;
  /** A fresh serializer per call. */
  factory: () => Serializer<T>;
  /** Values that must round-trip; include edge cases (empty, extremes, unicode). */
  samples: T[];
  /** Values the serializer must refuse with an EncodeError (a StateshiftError) or TypeError. */
  invalid?: unknown[];
  /**
   * Values the serializer writes that do not read back as themselves (undefined written as null, a
   * key it does not declare set to undefined): a backend's copy of each must still equal its round trip.
   */
  reshaped?: unknown[];
  /** fast-check, and an arbitrary of valid values, for the property test. */
  fc?: FastCheckLike;
  arbitrary?: (fc: FastCheckLike) => unknown;
  numRuns?: number;
  equals?: EqualsFn;
}

export function serializerSuite<T>(options: SerializerSuiteOptions<T>): void {
  const { test, name, factory, samples } = options;
  const equals = options.equals ?? defaultEquals;
  if (!samples.length) throw new TypeError(`serializerSuite "${name}" needs at least one sample`);

  test(`${name}: samples round-trip`, () => {
    const serializer = factory();
    for (const sample of samples) equals(decode(serializer, encode(serializer, sample)), sample, `round trip of ${show(sample)}`);
  });

  test(`${name}: values self-delimit when written back to back`, () => {
    const serializer = factory();
    const out = new DataOutput();
    for (const sample of samples) serializer.serialize(sample, out);
    const input = new DataInput(out.toBytes());
    for (const sample of samples) equals(serializer.deserialize(input), sample, `reading ${show(sample)} from a sequence`);
    if (!input.atEnd) fail(`${input.remaining} bytes left after reading every sample back`);
  });

  test(`${name}: truncated bytes throw DecodeError, never a value`, () => {
    const serializer = factory();
    for (const sample of samples) {
      const bytes = encode(serializer, sample);
      for (let cut = 0; cut < bytes.length; cut++) {
        let value: unknown;
        try {
          value = serializer.deserialize(new DataInput(bytes.subarray(0, cut)));
        } catch (error) {
          if (!(error instanceof DecodeError)) fail(`cutting ${show(sample)} at ${cut}/${bytes.length} threw ${String(error)}, not a DecodeError`);
          continue;
        }
        fail(`cutting ${show(sample)} at ${cut}/${bytes.length} bytes returned ${show(value)} instead of throwing`);
      }
    }
  });

  test(`${name}: snapshot survives framing and the registry`, () => {
    const serializer = factory();
    const bytes = snapshotToBytes(serializer.snapshot());
    const restored = snapshotFromBytes(bytes);
    equals(restored.kind, serializer.kind, 'snapshot kind');
    equals(snapshotToBytes(restored), bytes, 'snapshot bytes after a read and a write');
    equals(restored.describe(), serializer.snapshot().describe(), 'snapshot description');
    const reader = restored.restoreSerializer();
    for (const sample of samples) equals(decode(reader, encode(serializer, sample)), sample, `restored serializer reading ${show(sample)}`);
    const self = resolveSchemaCompatibility(serializer.snapshot(), restored);
    if (self.type !== 'compatibleAsIs') fail(`a snapshot resolved against itself gave ${self.type}, not compatibleAsIs`);
  });

  test(`${name}: a copy (copierOf) equals the round trip`, () => {
    // Backends copy values on set and get; what they return must be what the bytes would give.
    const serializer = factory();
    const copy = copierOf(serializer as Serializer<unknown>);
    for (const value of [...samples, ...(options.reshaped ?? [])]) {
      equals(copy(value), decode(serializer, encode(serializer, value as T)), `copy of ${show(value)}`);
    }
  });

  if (options.invalid?.length) {
    test(`${name}: invalid values are refused`, () => {
      const serializer = factory();
      for (const value of options.invalid!) {
        try {
          serializer.serialize(value as T, new DataOutput());
        } catch (error) {
          if (error instanceof StateshiftError || error instanceof TypeError || error instanceof RangeError) continue;
          fail(`writing invalid ${show(value)} threw ${String(error)}, expected an EncodeError`);
        }
        fail(`writing invalid ${show(value)} did not throw`);
      }
    });
  }

  if (options.fc && options.arbitrary) {
    const fc = options.fc;
    test(`${name}: property: arbitrary values round-trip`, () => {
      const serializer = factory();
      fc.assert(
        fc.property(options.arbitrary!(fc), (value: T) => {
          equals(decode(serializer, encode(serializer, value)), value);
        }),
        { numRuns: options.numRuns ?? 200 },
      );
    });
  }
}
