/** The Protobuf snapshot: the message type's full name and the whole descriptor it resolves in. */
import protobuf from 'protobufjs';
import {
  kindChanged,
  madeByThisCopy,
  registerSnapshotReader,
  type Compatibility,
  type DataOutput,
  type SchemaDescription,
  type Serializer,
  type SerializerSnapshot,
} from '@stateshift/core';
import { compareTypes, convertValue } from './rules.js';
import { convertingReader, loadType, ProtobufSerializer, readMessage } from './serializer.js';
import type { Type } from './codec.js';

export const PROTOBUF_KIND = 'protobuf';
export const PROTOBUF_PACKAGE = '@stateshift/protobuf';

export class ProtobufSnapshot<T> implements SerializerSnapshot<T> {
  readonly kind = PROTOBUF_KIND;
  readonly version = 1;
  readonly packageName = PROTOBUF_PACKAGE;

  constructor(
    readonly root: protobuf.Root,
    readonly type: Type,
  ) {}

  write(out: DataOutput): void {
    out.writeString(this.type.fullName.replace(/^\./, ''));
    out.writeString(JSON.stringify(this.root.toJSON()));
  }

  restoreSerializer(): Serializer<T> {
    return new ProtobufSerializer<T>(this.root, this.type);
  }

  resolveCompatibility(previous: SerializerSnapshot<unknown>): Compatibility<T> {
    if (!(previous instanceof ProtobufSnapshot)) return kindChanged(previous, this);
    const next = this.type;
    const old = previous.type;
    return compareTypes(next, old).result(() => convertingReader<T>((input) => readMessage(old, input), (v) => convertValue(next, old, v)));
  }

  describe(): SchemaDescription {
    return { type: 'protobuf', message: this.type.fullName.replace(/^\./, ''), descriptor: JSON.parse(JSON.stringify(this.root.toJSON())) };
  }
}

registerSnapshotReader({
  kind: PROTOBUF_KIND,
  packageName: PROTOBUF_PACKAGE,
  currentVersion: 1,
  read(input) {
    const name = input.readString();
    const { root, type } = loadType(JSON.parse(input.readString()), name);
    return new ProtobufSnapshot(root, type);
  },
});

// Two copies of this package in one program are named by where each is installed.
madeByThisCopy(ProtobufSnapshot, new URL('..', import.meta.url));
