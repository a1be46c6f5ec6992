/** The Thrift serializer: the struct in the configured protocol, ending with its STOP field. */
import type { DataInput, DataOutput, Serializer } from '@stateshift/core';
import { codecFor, type Codec, type ProtocolName } from './codec.js';
import { parseIdl, structOf, type ThriftModel, type ThriftStruct } from './model.js';
import { ThriftSnapshot, THRIFT_KIND } from './snapshot.js';

export class ThriftSerializer<T> implements Serializer<T> {
  readonly kind = THRIFT_KIND;
  readonly model: ThriftModel;
  readonly struct: ThriftStruct;
  readonly codec: Codec;

  constructor(
    readonly idl: string,
    readonly structName: string,
    readonly protocol: ProtocolName,
  ) {
    if (protocol !== 'binary' && protocol !== 'compact') throw new TypeError(`thrift protocol must be 'binary' or 'compact', got ${String(protocol)}`);
    this.model = parseIdl(idl);
    this.struct = structOf(this.model, structName);
    this.codec = codecFor(this.model, protocol);
  }

  serialize(value: T, out: DataOutput): void {
    this.codec.write(out, this.struct, value);
  }

  deserialize(input: DataInput): T {
    return this.codec.read(input, this.struct) as T;
  }

  snapshot(): ThriftSnapshot<T> {
    return new ThriftSnapshot<T>(this);
  }
}
