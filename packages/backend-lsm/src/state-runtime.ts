/** What the LSM backend keeps per operator and state at run time: ids, readers per version, writers. */
import {
  DataInput,
  DataOutput,
  keyGroupOf,
  type Deserializer,
  type OperatorDeclaration,
  type Serializer,
  type StateDescriptor,
  type TtlValue,
} from '@stateshift/core';
import { keyPart } from './layout.js';

export interface StateRuntime {
  id: number;
  uid: string;
  descriptor: StateDescriptor;
  /** Index of the operator and of the state in the layout (savepoint entries name states by index). */
  operatorIndex: number;
  stateIndex: number;
  /** Writes stored values (TTL-wrapped when the state has a TTL). */
  writer: Serializer<unknown>;
  /** The version id new writes carry. */
  newest: number;
  /** Reads the stored bytes of each version as the current type. */
  readers: Map<number, Deserializer<unknown>>;
  mapKeyWriter?: Serializer<unknown>;
}

export interface OperatorRuntime {
  declaration: OperatorDeclaration;
  index: number;
  states: Map<string, StateRuntime>;
}

const scratch = new DataOutput(256);

export function bytesOf(serializer: Serializer<unknown>, value: unknown): Uint8Array {
  scratch.reset();
  serializer.serialize(value, scratch);
  return scratch.toBytes();
}

export function readAll(reader: Deserializer<unknown>, bytes: Uint8Array): unknown {
  return reader.deserialize(new DataInput(bytes));
}

/** The key group and the key-and-namespace bytes of a key. */
export function locateKey(op: OperatorDeclaration, maxParallelism: number, key: unknown, namespace: unknown): { keyGroup: number; keyNs: Uint8Array } {
  const keyBytes = bytesOf(op.keySerializer, key);
  if (!op.namespaceSerializer && namespace !== undefined) throw new TypeError(`operator "${op.uid}" declares no namespace serializer; call without a namespace`);
  const nsBytes = op.namespaceSerializer ? bytesOf(op.namespaceSerializer, namespace) : new Uint8Array(0);
  return { keyGroup: keyGroupOf(keyBytes, maxParallelism), keyNs: keyPart(keyBytes, nsBytes) };
}

/** A stored value as the user sees it, or undefined when its TTL has passed. */
export function liveValue(state: StateRuntime, stored: unknown, now: number): unknown {
  const ttl = state.descriptor.options.ttl;
  if (!ttl) return stored;
  const wrapped = stored as TtlValue<unknown>;
  return wrapped.timestamp + ttl.ttlMs <= now ? undefined : wrapped.value;
}

export function wrapValue(state: StateRuntime, value: unknown, now: number): unknown {
  return state.descriptor.options.ttl ? ({ value, timestamp: now } satisfies TtlValue<unknown>) : value;
}

/** Whether stored bytes of a TTL state have expired, from the timestamp that leads them. */
export function expiredBytes(state: StateRuntime, version: number, bytes: Uint8Array, now: number, ttlVersions: Set<number>): boolean {
  const ttl = state.descriptor.options.ttl;
  if (!ttl || !ttlVersions.has(version)) return false;
  return new DataInput(bytes).readVarUint() + ttl.ttlMs <= now;
}
