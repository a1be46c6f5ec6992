/**
 * The Avro serializer: each value is the raw Avro binary datum (no header, no length), so bytes
 * from any Avro implementation read back, and values self-delimit as Avro's own encoding does.
 * Values follow stateshift's value model (see codec.ts).
 */
import { prefixEncodeError, type DataInput, type DataOutput, type Serializer } from '@stateshift/core';
import { codecOf, zeroOf, type AvroCodec } from './codec.js';
import type { AvroOptions, AvroType } from './types.js';
import { AvroSnapshot, AVRO_KIND } from './snapshot.js';

export class AvroSerializer<T> implements Serializer<T> {
  readonly kind = AVRO_KIND;
  private readonly codec: AvroCodec;
  /** Errors are named from the top-level record: "Order.items[0].qty". */
  private readonly root: string;

  constructor(
    readonly type: AvroType,
    readonly options: AvroOptions = {},
  ) {
    this.codec = codecOf(type);
    this.root = type.name ? type.name.split('.').pop()! : '';
  }

  serialize(value: T, out: DataOutput): void {
    try {
      this.codec.write(value, out);
    } catch (error) {
      throw prefixEncodeError(error, this.root);
    }
  }

  deserialize(input: DataInput): T {
    return this.codec.read(input) as T;
  }

  snapshot(): AvroSnapshot<T> {
    return new AvroSnapshot<T>(this.type, this.options);
  }

  zero(): T {
    return zeroOf(this.type) as T;
  }
}
