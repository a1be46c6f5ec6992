/** What the kit's suites share: the injected test function, equality, and byte helpers. */
import { deepStrictEqual } from 'node:assert/strict';
import { DataInput, DataOutput } from '../bytes.js';
import type { Deserializer, Serializer } from '../contract.js';

/** A vitest- or tape-like `test(name, fn)`. Injected so core does not depend on a test runner. */
export type TestFn = (name: string, fn: () => unknown) => unknown;

/** Asserts two values are equal; throws with a diff when not. */
export type EqualsFn = (actual: unknown, expected: unknown, message?: string) => void;

export const defaultEquals: EqualsFn = (actual, expected, message) => deepStrictEqual(actual, expected, message);

export function encode<T>(serializer: Serializer<T>, value: T): Uint8Array {
  const out = new DataOutput();
  serializer.serialize(value, out);
  return out.toBytes();
}

/** Reads one value and checks every byte was consumed. */
export function decode<T>(reader: Deserializer<T>, bytes: Uint8Array, what = 'a value'): T {
  const input = new DataInput(bytes);
  const value = reader.deserialize(input);
  if (!input.atEnd) throw new Error(`reading ${what} left ${input.remaining} of ${bytes.length} bytes unread`);
  return value;
}

export function fail(message: string): never {
  throw new Error(message);
}

export function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `bytes(${v.length})` : v));
  } catch {
    return String(value);
  }
}
