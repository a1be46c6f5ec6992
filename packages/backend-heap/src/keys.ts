/**
 * Keys of the heap tables: the serialized key (and namespace) bytes, as a string, so keys compare by
 * bytes (object keys work) and the key group is that of the bytes.
 */
import { DataOutput, keyGroupOf, type Serializer } from '@stateshift/core';

export function bytesToId(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export interface EncodedKey {
  keyGroup: number;
  /** Key bytes then namespace bytes; both self-delimit, so the concatenation is unambiguous. */
  id: string;
}

export class KeyEncoder {
  private readonly out = new DataOutput(64);

  constructor(
    private readonly key: Serializer<unknown>,
    private readonly namespace: Serializer<unknown> | undefined,
    private readonly maxParallelism: number,
  ) {}

  encode(key: unknown, namespace: unknown): EncodedKey {
    const out = this.out;
    out.reset();
    this.key.serialize(key, out);
    const keyLength = out.length;
    const keyGroup = keyGroupOf(out.peek().subarray(0, keyLength), this.maxParallelism);
    if (this.namespace) this.namespace.serialize(namespace, out);
    else if (namespace !== undefined) throw new TypeError('this operator declares no namespace serializer; call without a namespace');
    return { keyGroup, id: bytesToId(out.peek()) };
  }

  /** Bytes of one value with a serializer (for map keys and savepoints). */
  bytesOf(serializer: Serializer<unknown>, value: unknown): Uint8Array {
    const out = this.out;
    out.reset();
    serializer.serialize(value, out);
    return out.toBytes();
  }
}
