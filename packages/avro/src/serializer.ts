/**
 * The Avro serializer: each value is the raw Avro binary datum (no header, no length), so bytes
 * from any Avro implementation read back, and values self-delimit as Avro's own encoding does.
 */
import { DecodeError, EncodeError, type DataInput, type DataOutput, type Deserializer, type Serializer } from '@stateshift/core';
import type { AvroOptions, AvroType } from './types.js';
import { AvroSnapshot, AVRO_KIND } from './snapshot.js';
import { createResolver } from './resolver.js';

/** A Buffer view of the bytes (avsc reads and writes Buffers), made once per array in a row. */
let lastBytes: Uint8Array | undefined;
let lastBuffer: Buffer | undefined;
function bufferOf(bytes: Uint8Array): Buffer {
  if (bytes !== lastBytes) {
    lastBytes = bytes;
    lastBuffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return lastBuffer!;
}

/** Reads one datum at the input's position with `type` (and a resolver for writer-schema data). */
export function readDatum(type: AvroType, input: DataInput, resolver?: unknown): unknown {
  const at = input.offset;
  let result: { value: unknown; offset: number };
  try {
    result = type.decode(bufferOf(input.bytes), at, resolver as never);
  } catch (error) {
    throw new DecodeError(`invalid Avro datum for ${type.name ?? type.typeName}: ${(error as Error).message}`, at, { cause: error });
  }
  if (result.offset < 0 || result.offset > at + input.remaining) throw new DecodeError(`truncated Avro datum for ${type.name ?? type.typeName}`, at);
  input.skip(result.offset - at);
  return result.value;
}

/** Where in a value avsc found it invalid, as a path like "Order.items[2].qty". */
function invalidPath(type: AvroType, value: unknown): { path: string; message: string } {
  let found: { path: string; message: string } | undefined;
  type.isValid(value, {
    errorHook: (path: string[], any: unknown, t: AvroType) => {
      if (found) return;
      const where = path.reduce((p, part) => (/^\d+$/.test(part) ? `${p}[${part}]` : `${p}.${part}`), type.name ? type.name.split('.').pop()! : '');
      found = { path: where, message: `expected ${t.name ?? t.typeName}, got ${typeof any === 'bigint' ? `${any}n` : JSON.stringify(any) ?? String(any)}` };
    },
  });
  return found ?? { path: '', message: 'invalid value' };
}

export class AvroSerializer<T> implements Serializer<T> {
  readonly kind = AVRO_KIND;

  constructor(
    readonly type: AvroType,
    readonly options: AvroOptions = {},
  ) {}

  serialize(value: T, out: DataOutput): void {
    try {
      out.writeInPlace((bytes, offset) => this.type.encode(value, bufferOf(bytes), offset));
    } catch (error) {
      const { path, message } = invalidPath(this.type, value);
      throw new EncodeError(message, path, { cause: error });
    }
  }

  deserialize(input: DataInput): T {
    return readDatum(this.type, input) as T;
  }

  snapshot(): AvroSnapshot<T> {
    return new AvroSnapshot<T>(this.type, this.options);
  }

  zero(): T {
    return zeroOf(this.type) as T;
  }
}

/** A reader of data written with `writer`, as values of `reader` (avsc's resolver). */
export function resolvingReader<T>(reader: AvroType, writer: AvroType): Deserializer<T> {
  const resolver = createResolver(reader, writer);
  return { deserialize: (input) => readDatum(reader, input, resolver) as T };
}

/** Zero values for a field of this type added to a pojo (Avro fields added to records take their default instead). */
function zeroOf(type: AvroType): unknown {
  switch ((type as { typeName: string }).typeName) {
    case 'null':
      return null;
    case 'boolean':
      return false;
    case 'int':
    case 'float':
    case 'double':
      return 0;
    case 'abstract:long':
    case 'long':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'fixed':
      return Buffer.alloc((type as unknown as { size: number }).size);
    case 'array':
      return [];
    case 'map':
      return {};
    case 'enum':
      return (type as unknown as { symbols: string[] }).symbols[0];
    case 'record':
    case 'error':
      return Object.fromEntries((type as unknown as { fields: { name: string; type: AvroType; defaultValue(): unknown }[] }).fields.map((f) => [f.name, f.defaultValue() ?? zeroOf(f.type)]));
    default:
      if ((type as { typeName: string }).typeName.startsWith('union')) return zeroOf((type as unknown as { types: AvroType[] }).types[0]);
      return undefined;
  }
}
