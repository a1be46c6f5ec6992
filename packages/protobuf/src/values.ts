/**
 * Between protobufjs messages and stateshift values: plain objects by field name, 64-bit integers
 * as bigint, enums by name, bytes as Uint8Array, maps as plain objects, repeated fields as arrays.
 */
import protobuf from 'protobufjs';
import { EncodeError } from '@stateshift/core';

export type Type = protobuf.Type;
export type Field = protobuf.Field;

const LONG = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
export const isLong = (type: string) => LONG.has(type);

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true };

/** A decoded message as a stateshift value. */
export function toValue(type: Type, message: protobuf.Message): Record<string, unknown> {
  return normalize(type, type.toObject(message, TO_OBJECT));
}

function normalizeScalar(field: Field, v: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Type) return normalize(field.resolvedType, v as Record<string, unknown>);
  if (isLong(field.type)) return BigInt(v as string);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  return v;
}

function normalize(type: Type, object: Record<string, unknown>): Record<string, unknown> {
  for (const field of type.fieldsArray) {
    const v = object[field.name];
    if (v === undefined || v === null) continue;
    if (field.map) {
      const m = v as Record<string, unknown>;
      for (const k of Object.keys(m)) m[k] = normalizeScalar(field, m[k]);
    } else if (field.repeated) object[field.name] = (v as unknown[]).map((e) => normalizeScalar(field, e));
    else object[field.name] = normalizeScalar(field, v);
  }
  return object;
}

/** A stateshift value as protobufjs `verify` and `fromObject` input: bigints as Long. */
export function fromValue(type: Type, value: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(value)) {
    // protobufjs would drop an unknown key silently, losing the value.
    if (!type.fields[key] && value[key] !== undefined) throw new EncodeError(`${type.name} has no field "${key}"; its fields are ${type.fieldsArray.map((f) => f.name).join(', ')}`, type.name);
  }
  const out: Record<string, unknown> = { ...value };
  for (const field of type.fieldsArray) {
    const v = out[field.name];
    if (v === undefined || v === null) continue;
    const one = (e: unknown) => {
      if (field.resolvedType instanceof protobuf.Type) return fromValue(field.resolvedType, e as Record<string, unknown>);
      if (field.resolvedType instanceof protobuf.Enum && typeof e === 'string') {
        const n = field.resolvedType.values[e];
        if (n === undefined) throw new EncodeError(`"${e}" is not a value of enum ${field.resolvedType.name}`, `${type.name}.${field.name}`);
        return n;
      }
      if (isLong(field.type)) {
        if (typeof e !== 'bigint') throw new EncodeError(`expected a bigint for ${field.type}, got ${typeof e === 'string' ? JSON.stringify(e) : typeof e}`, `${type.name}.${field.name}`);
        // A Long-shaped object: protobufjs verifies and converts it exactly, whatever the magnitude.
        return { low: Number(BigInt.asUintN(32, e)) | 0, high: Number(BigInt.asUintN(32, e >> 32n)) | 0, unsigned: field.type === 'uint64' || field.type === 'fixed64' };
      }
      return e;
    };
    if (field.map) out[field.name] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, e]) => [k, one(e)]));
    else if (field.repeated) out[field.name] = Array.isArray(v) ? v.map(one) : v;
    else out[field.name] = one(v);
  }
  return out;
}
