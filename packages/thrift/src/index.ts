/**
 * @stateshift/thrift: state as Thrift structs, by IDL text, in the binary or compact protocol,
 * evolving by Thrift's rules by field id. Importing this module registers the `thrift` snapshot reader.
 *
 * @module @stateshift/thrift
 */
import type { Serializer } from '@stateshift/core';
import type { ProtocolName } from './codec.js';
import { ThriftSerializer } from './serializer.js';

export { ThriftSerializer } from './serializer.js';
export { ThriftSnapshot, THRIFT_KIND, THRIFT_PACKAGE } from './snapshot.js';
export type { ProtocolName } from './codec.js';

/**
 * A serializer of one struct (or union) of a Thrift IDL. Values are plain objects by field name;
 * i64 is bigint, binary Uint8Array, list an array, set a Set, map a Map, enums their i32 values.
 */
export function thrift<T = unknown>(idl: string, structName: string, options: { protocol?: ProtocolName } = {}): Serializer<T> {
  return new ThriftSerializer<T>(idl, structName, options.protocol ?? 'binary');
}
