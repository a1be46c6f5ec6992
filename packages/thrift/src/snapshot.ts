/** The Thrift snapshot: the IDL text, the struct name and the protocol. */
import {
  DecodeError,
  kindChanged,
  madeByThisCopy,
  registerSnapshotReader,
  type Compatibility,
  type DataOutput,
  type SchemaDescription,
  type Serializer,
  type SerializerSnapshot,
} from '@stateshift/core';
import type { ProtocolName } from './codec.js';
import { compareStructs, convertStruct } from './rules.js';
import { ThriftSerializer } from './serializer.js';

export const THRIFT_KIND = 'thrift';
export const THRIFT_PACKAGE = '@stateshift/thrift';

export class ThriftSnapshot<T> implements SerializerSnapshot<T> {
  readonly kind = THRIFT_KIND;
  readonly version = 1;
  readonly packageName = THRIFT_PACKAGE;

  constructor(readonly serializer: ThriftSerializer<T>) {}

  write(out: DataOutput): void {
    out.writeString(this.serializer.idl);
    out.writeString(this.serializer.structName);
    out.writeString(this.serializer.protocol);
  }

  restoreSerializer(): Serializer<T> {
    return this.serializer;
  }

  resolveCompatibility(previous: SerializerSnapshot<unknown>): Compatibility<T> {
    if (!(previous instanceof ThriftSnapshot)) return kindChanged(previous, this);
    const next = this.serializer;
    const prev = previous.serializer as ThriftSerializer<unknown>;
    const protocolChanged = prev.protocol !== next.protocol;
    return compareStructs(next.model, prev.model, next.struct, prev.struct).result<T>(
      () => ({
        deserialize(input) {
          const at = input.offset;
          const value = prev.codec.read(input, prev.struct);
          try {
            return convertStruct(next.model, prev.model, next.struct, prev.struct, value) as T;
          } catch (error) {
            throw new DecodeError(`a stored value cannot be read as the new type: ${(error as Error).message}`, at, { cause: error });
          }
        },
      }),
      protocolChanged ? { migrate: true, extra: [{ path: '', message: `protocol changed from ${prev.protocol} to ${next.protocol}` }] } : {},
    );
  }

  describe(): SchemaDescription {
    return { type: 'thrift', struct: this.serializer.structName, protocol: this.serializer.protocol, idl: this.serializer.idl };
  }
}

registerSnapshotReader({
  kind: THRIFT_KIND,
  packageName: THRIFT_PACKAGE,
  currentVersion: 1,
  read: (input) => new ThriftSnapshot(new ThriftSerializer(input.readString(), input.readString(), input.readString() as ProtocolName)),
});

// Two copies of this package in one program are named by where each is installed.
madeByThisCopy(ThriftSnapshot, new URL('..', import.meta.url));
