/**
 * @stateshift/protobuf: state as Protobuf messages, by .proto text or descriptor, evolving by
 * protobuf's own update rules. Importing this module registers the `protobuf` snapshot reader.
 *
 * @module @stateshift/protobuf
 */
import type { Serializer } from '@stateshift/core';
import { loadType, ProtobufSerializer, type ProtoSource } from './serializer.js';

export { ProtobufSerializer, type ProtoSource } from './serializer.js';
export { ProtobufSnapshot, PROTOBUF_KIND, PROTOBUF_PACKAGE } from './snapshot.js';

/**
 * A serializer of one message type. Values are plain objects by field name (as written in the
 * .proto), 64-bit integers as bigint, enums by name, bytes as Uint8Array, maps as plain objects.
 */
export function protobuf<T = unknown>(source: ProtoSource, typeName: string): Serializer<T> {
  const { root, type } = loadType(source, typeName);
  return new ProtobufSerializer<T>(root, type);
}
