/**
 * The TTL wrapper: a value with the time (ms since the epoch) it was last written. Backends hide and
 * drop values whose time plus the state's TTL has passed. Turning TTL on or off between versions is a
 * migration, resolved by `resolveSchemaCompatibility`.
 */
import type { DataInput, DataOutput } from '../bytes.js';
import {
  combineCompatibility,
  type Compatibility,
  type Deserializer,
  type SchemaDescription,
  type Serializer,
  type SerializerSnapshot,
} from '../contract.js';
import { readSnapshot, registerSnapshotReader, writeSnapshot } from '../registry.js';
import { resolveSchemaCompatibility } from '../resolve.js';
import { CORE_PACKAGE, kindChanged } from './common.js';
import { madeByThisCopy } from '../copies.js';

export interface TtlValue<T> {
  value: T;
  /** When the value was last written (or read, with update "onReadAndWrite"), in ms since the epoch. */
  timestamp: number;
}

export const TTL_KIND = 'core.ttl';

export class TtlSerializer<T> implements Serializer<TtlValue<T>> {
  readonly kind = TTL_KIND;
  constructor(readonly inner: Serializer<T>) {}

  serialize(value: TtlValue<T>, out: DataOutput): void {
    out.writeVarUint(value.timestamp);
    this.inner.serialize(value.value, out);
  }

  deserialize(input: DataInput): TtlValue<T> {
    const timestamp = input.readVarUint();
    return { timestamp, value: this.inner.deserialize(input) };
  }

  snapshot(): TtlSnapshot<T> {
    return new TtlSnapshot(this.inner.snapshot());
  }
}

/** Reads a TTL-wrapped value with a given inner reader. */
export function ttlReader<T>(inner: Deserializer<T>): Deserializer<TtlValue<T>> {
  return {
    deserialize(input) {
      const timestamp = input.readVarUint();
      return { timestamp, value: inner.deserialize(input) };
    },
  };
}

export class TtlSnapshot<T> implements SerializerSnapshot<TtlValue<T>> {
  readonly kind = TTL_KIND;
  readonly version = 1;
  readonly packageName = CORE_PACKAGE;
  constructor(readonly inner: SerializerSnapshot<T>) {}

  write(out: DataOutput): void {
    writeSnapshot(out, this.inner);
  }

  restoreSerializer(): Serializer<TtlValue<T>> {
    return new TtlSerializer(this.inner.restoreSerializer());
  }

  resolveCompatibility(previous: SerializerSnapshot<unknown>): Compatibility<TtlValue<T>> {
    if (!(previous instanceof TtlSnapshot)) return kindChanged(previous, this);
    const next = this.inner.restoreSerializer();
    return combineCompatibility<TtlValue<T>>([{ path: '', result: resolveSchemaCompatibility(this.inner, previous.inner) }], {
      next: [next],
      readPrevious: ([inner]) => ttlReader(inner as Deserializer<T>),
      reconfigured: ([inner]) => new TtlSerializer(inner as Serializer<T>),
    });
  }

  describe(): SchemaDescription {
    return { type: 'ttl', value: this.inner.describe() };
  }
}
madeByThisCopy(TtlSnapshot);

registerSnapshotReader({
  kind: TTL_KIND,
  packageName: CORE_PACKAGE,
  currentVersion: 1,
  read: (input) => new TtlSnapshot(readSnapshot(input)),
});

export function ttl<T>(inner: Serializer<T>): TtlSerializer<T> {
  return new TtlSerializer(inner);
}
