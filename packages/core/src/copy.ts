/**
 * Copies of values, for backends' copy semantics: a value handed to `set` or returned by `get`
 * shares nothing mutable with the state. A copy must equal what a round trip through the serializer
 * gives (a key holding undefined gone, -0 as the format writes it), so every backend returns the same value
 * for the same `set`. Copy only values the serializer has just written (they are valid).
 */
import { DataInput, DataOutput } from './bytes.js';
import type { Serializer } from './contract.js';
import { ListSerializer } from './builtins/list.js';
import { MapSerializer } from './builtins/map.js';
import { NullableSerializer } from './builtins/nullable.js';
import { TupleSerializer } from './builtins/tuple.js';
import { TtlSerializer, type TtlValue } from './builtins/ttl.js';

export type Copier = (value: unknown) => unknown;

/** Serializers whose values are immutable primitives that round-trip unchanged. */
const IMMUTABLE_KINDS = new Set(['core.string', 'core.boolean', 'core.int64', 'core.float64', 'core.enum']);

const identity: Copier = (v) => v;

/** A copier without a round trip through bytes, or undefined when the serializer has none. */
function cheapCopier(serializer: Serializer<unknown>): Copier | undefined {
  if (IMMUTABLE_KINDS.has(serializer.kind)) return identity;
  // int32 writes -0 as 0.
  if (serializer.kind === 'core.int32') return (v) => (v as number) | 0;
  if (serializer.kind === 'core.bytes') return (v) => new Uint8Array(v as Uint8Array);
  if (serializer instanceof TtlSerializer) {
    const inner = cheapCopier(serializer.inner as Serializer<unknown>);
    return inner && ((v) => ({ timestamp: (v as TtlValue<unknown>).timestamp, value: inner((v as TtlValue<unknown>).value) }));
  }
  if (serializer instanceof NullableSerializer) {
    const inner = cheapCopier(serializer.inner as Serializer<unknown>);
    // The serializer writes undefined as null, so a copy of undefined is null too.
    return inner && ((v) => (v === null || v === undefined ? null : inner(v)));
  }
  if (serializer instanceof ListSerializer) {
    const element = cheapCopier(serializer.element as Serializer<unknown>);
    return element && ((v) => (v as unknown[]).map(element));
  }
  if (serializer instanceof TupleSerializer) {
    const items = serializer.items.map(cheapCopier);
    if (items.some((c) => !c)) return undefined;
    return (v) => items.map((c, i) => c!((v as unknown[])[i]));
  }
  if (serializer instanceof MapSerializer) {
    const key = cheapCopier(serializer.key as Serializer<unknown>);
    const value = cheapCopier(serializer.value as Serializer<unknown>);
    if (!key || !value) return undefined;
    return (v) => {
      const out = new Map();
      for (const [k, x] of v as Map<unknown, unknown>) out.set(key(k), value(x));
      return out;
    };
  }
  const own = serializer.copy;
  return typeof own === 'function' ? (v) => own.call(serializer, v) : undefined;
}

/**
 * The copier of a serializer: without bytes where it can (primitives, core composites, serializers
 * with a `copy` of their own), else a round trip through its bytes.
 */
export function copierOf(serializer: Serializer<unknown>): Copier {
  const cheap = cheapCopier(serializer);
  if (cheap) return cheap;
  const out = new DataOutput(256);
  return (value) => {
    out.reset();
    serializer.serialize(value, out);
    return serializer.deserialize(new DataInput(out.peek()));
  };
}

/** Whether `copierOf(serializer)` copies without a round trip through bytes. */
export function hasCheapCopy(serializer: Serializer<unknown>): boolean {
  return cheapCopier(serializer) !== undefined;
}
