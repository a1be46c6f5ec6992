/** avsc types as stateshift uses them: longs as bigint, everywhere (nested, defaults, JSON). */
import avsc from 'avsc';
import { SchemaError } from '@stateshift/core';

export type AvroType = avsc.Type;
export type AvroSchema = avsc.Schema;

const bigintLong = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (x: unknown) => BigInt(x as number | string),
  toJSON: (n: bigint) => (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString()),
  isValid: (n: unknown) => typeof n === 'bigint' && n >= -(1n << 63n) && n < 1n << 63n,
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

export interface AvroOptions {
  /** avsc logical type implementations, by logical type name (see avsc's `logicalTypes` option). */
  logicalTypes?: Record<string, new (schema: object, opts?: object) => avsc.types.LogicalType>;
}

/** Parses a schema (object or JSON text) into an avsc type with bigint longs. */
export function parseSchema(schema: AvroSchema | string, options: AvroOptions = {}): AvroType {
  let parsed: unknown = schema;
  if (typeof schema === 'string') {
    try {
      parsed = JSON.parse(schema);
    } catch {
      // A bare primitive name like "string" is a schema too.
      parsed = schema;
    }
  }
  try {
    return avsc.Type.forSchema(parsed as AvroSchema, {
      registry: { long: bigintLong } as unknown as Record<string, AvroType>,
      logicalTypes: options.logicalTypes as never,
    });
  } catch (error) {
    throw new SchemaError(`invalid Avro schema: ${(error as Error).message}`, { cause: error });
  }
}

/** The full schema, defaults and aliases included, as JSON text. */
export function schemaText(type: AvroType): string {
  return JSON.stringify(type.schema({ exportAttrs: true }), (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
}
