/**
 * Copy semantics: a value handed to `set` or returned by `get` shares nothing mutable with the
 * state. A copy must equal what a round trip through the serializer gives (extra fields gone, -0 as
 * the format writes it), so every backend returns the same value for the same `set`.
 */
import { DataInput, DataOutput, TtlSerializer, type Serializer, type TtlValue } from '@stateshift/core';

export type Copier = (value: unknown) => unknown;

/** Serializers whose values are immutable primitives that round-trip unchanged. */
const IMMUTABLE_KINDS = new Set(['core.string', 'core.boolean', 'core.int64', 'core.float64']);

/**
 * The copier of a serializer: identity for immutable primitives, the serializer's own `copy` when it
 * has one, else a round trip through its bytes.
 */
export function copierOf(serializer: Serializer<unknown>): Copier {
  if (IMMUTABLE_KINDS.has(serializer.kind)) return (v) => v;
  // int32 writes -0 as 0.
  if (serializer.kind === 'core.int32') return (v) => (v as number) | 0;
  if (serializer instanceof TtlSerializer) {
    const inner = copierOf(serializer.inner as Serializer<unknown>);
    return (v) => {
      const { timestamp, value } = v as TtlValue<unknown>;
      return { timestamp, value: inner(value) };
    };
  }
  const own = (serializer as { copy?: (value: unknown) => unknown }).copy;
  if (typeof own === 'function') return (v) => own.call(serializer, v);
  const out = new DataOutput(256);
  return (value) => {
    out.reset();
    serializer.serialize(value, out);
    return serializer.deserialize(new DataInput(out.peek()));
  };
}

/** Whether `copierOf(serializer)` copies without a round trip through bytes. */
export function hasCheapCopy(serializer: Serializer<unknown>): boolean {
  if (IMMUTABLE_KINDS.has(serializer.kind) || serializer.kind === 'core.int32') return true;
  if (serializer instanceof TtlSerializer) return hasCheapCopy(serializer.inner as Serializer<unknown>);
  return typeof (serializer as { copy?: unknown }).copy === 'function';
}
