/** The Protobuf serializer: a varint length, then the message bytes (the usual delimited framing). */
import protobuf from 'protobufjs';
import { DecodeError, SchemaError, type DataInput, type DataOutput, type Deserializer, type Serializer } from '@stateshift/core';
import { ProtobufSnapshot, PROTOBUF_KIND } from './snapshot.js';
import { defaults, type Type } from './codec.js';
import { compiledOf, readDelimited, writeDelimited } from './compile.js';

export type ProtoSource = string | protobuf.INamespace;

/** Parses .proto text (proto2 or proto3) or a protobufjs JSON descriptor, and finds the type. */
export function loadType(source: ProtoSource, typeName: string): { root: protobuf.Root; type: Type } {
  let root: protobuf.Root;
  try {
    root = typeof source === 'string' ? protobuf.parse(source, { keepCase: true }).root : protobuf.Root.fromJSON(source);
    root.resolveAll();
  } catch (error) {
    throw new SchemaError(`invalid protobuf definition: ${(error as Error).message}`, { cause: error });
  }
  let type: Type;
  try {
    type = root.lookupType(typeName);
  } catch {
    throw new SchemaError(`no message type "${typeName}" in the protobuf definition`);
  }
  return { root, type };
}

export const readMessage = (type: Type, input: DataInput): Record<string, unknown> => readDelimited(type, input);

export class ProtobufSerializer<T> implements Serializer<T> {
  readonly kind = PROTOBUF_KIND;

  /** The generated codec, looked up once (per-schema work at construction). */
  private readonly codec: ReturnType<typeof compiledOf>;
  private readonly what: string;

  constructor(
    readonly root: protobuf.Root,
    readonly type: Type,
  ) {
    this.codec = compiledOf(type);
    this.what = `a ${type.name} message`;
  }

  serialize(value: T, out: DataOutput): void {
    writeDelimited(this.type, value, out, this.codec);
  }

  deserialize(input: DataInput): T {
    return readDelimited(this.type, input, this.codec, this.what) as T;
  }

  snapshot(): ProtobufSnapshot<T> {
    return new ProtobufSnapshot<T>(this.root, this.type);
  }

  zero(): T {
    return defaults(this.type) as T;
  }
}

export function convertingReader<T>(read: (input: DataInput) => Record<string, unknown>, convert: (v: Record<string, unknown>) => Record<string, unknown>): Deserializer<T> {
  return {
    deserialize(input) {
      const at = input.offset;
      const value = read(input);
      try {
        return convert(value) as T;
      } catch (error) {
        throw new DecodeError(`a stored value cannot be read as the new type: ${(error as Error).message}`, at, { cause: error });
      }
    },
  };
}
