/**
 * A field-by-field codec over protobufjs's Reader and Writer, compiled per message type: values
 * are plain objects by field name (64-bit integers as bigint, enums by name, bytes as Uint8Array,
 * maps as plain objects), with no detour through protobufjs's message objects and Long values.
 */
import protobuf from 'protobufjs';
import { DecodeError, EncodeError } from '@stateshift/core';

export type Type = protobuf.Type;
export type Field = protobuf.Field;

const LONG = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const UNSIGNED_LONG = new Set(['uint64', 'fixed64']);
export const isLong = (type: string) => LONG.has(type);
const PACKABLE = new Set(Object.keys(protobuf.types.packed));
const WIRE = protobuf.types.basic as Record<string, number>;

type Writer = protobuf.Writer;
type Reader = protobuf.Reader;
interface LongLike {
  low: number;
  high: number;
}

const INT32: [number, number] = [-2147483648, 2147483647];
const UINT32: [number, number] = [0, 4294967295];
const RANGE: Record<string, [number, number]> = { int32: INT32, sint32: INT32, sfixed32: INT32, uint32: UINT32, fixed32: UINT32 };
const LONG_RANGE: Record<string, [bigint, bigint]> = { signed: [-(1n << 63n), (1n << 63n) - 1n], unsigned: [0n, (1n << 64n) - 1n] };

function longBits(v: bigint): LongLike {
  return { low: Number(BigInt.asUintN(32, v)) | 0, high: Number(BigInt.asUintN(32, v >> 32n)) | 0 };
}

function toBigInt(l: LongLike | number, unsigned: boolean): bigint {
  if (typeof l === 'number') return BigInt(l);
  const v = (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
  return unsigned ? v : BigInt.asIntN(64, v);
}

function describe(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** What the codec needs of a field, computed once per type (protobufjs recomputes some on access). */
interface FieldPlan {
  field: Field;
  name: string;
  id: number;
  map: boolean;
  repeated: boolean;
  packed: boolean;
  required: boolean;
  message?: Type;
  keyType: string;
  /** The wire type of one value (enums are varints). */
  wire: number;
}

interface TypePlan {
  fields: FieldPlan[];
  byId: Map<number, FieldPlan>;
  names: Set<string>;
}

const plans = new WeakMap<Type, TypePlan>();

function planOf(type: Type): TypePlan {
  let plan = plans.get(type);
  if (plan) return plan;
  const fields = type.fieldsArray.map((f): FieldPlan => {
    const message = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    return {
      field: f,
      name: f.name,
      id: f.id,
      map: !!f.map,
      repeated: f.repeated,
      packed: f.repeated && !message && f.packed && (PACKABLE.has(f.type) || !!f.resolvedType),
      required: f.required,
      message,
      keyType: (f as unknown as { keyType: string }).keyType,
      wire: message ? 2 : f.resolvedType ? 0 : WIRE[f.type],
    };
  });
  plan = { fields, byId: new Map(fields.map((f) => [f.id, f])), names: new Set(fields.map((f) => f.name)) };
  plans.set(type, plan);
  return plan;
}

/** Writes one scalar (or enum) value. */
function writeScalar(w: Writer, field: Field, type: string, v: unknown, path: string): void {
  const wrong = (what: string) => new EncodeError(`expected ${what}, got ${describe(v)}`, path);
  if (field.resolvedType instanceof protobuf.Enum && type === field.type) {
    const n = typeof v === 'string' ? field.resolvedType.values[v] : v;
    const known = typeof n === 'number' && (!isClosed(field.resolvedType) || field.resolvedType.valuesById[n] !== undefined);
    if (!known || !Number.isInteger(n)) throw wrong(`a value of enum ${field.resolvedType.name} (${Object.keys(field.resolvedType.values).join(', ')})`);
    w.int32(n);
    return;
  }
  if (LONG.has(type)) {
    const [min, max] = LONG_RANGE[UNSIGNED_LONG.has(type) ? 'unsigned' : 'signed'];
    if (typeof v !== 'bigint' || v < min || v > max) throw wrong(`a bigint for ${type}`);
    // Safe integers go through protobufjs's number path; only larger values need the 64-bit split.
    const n = v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : longBits(v);
    (w as unknown as Record<string, (x: LongLike | number) => Writer>)[type](n);
    return;
  }
  switch (type) {
    case 'double':
    case 'float':
      if (typeof v !== 'number') throw wrong('a number');
      w[type](v);
      return;
    case 'bool':
      if (typeof v !== 'boolean') throw wrong('a boolean');
      w.bool(v);
      return;
    case 'string':
      if (typeof v !== 'string') throw wrong('a string');
      w.string(v);
      return;
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw wrong('a Uint8Array');
      w.bytes(v);
      return;
    default: {
      const [min, max] = RANGE[type];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw wrong(`an integer in the ${type} range`);
      (w as unknown as Record<string, (x: number) => Writer>)[type](v);
    }
  }
}

/** Whether a field tells unset from its zero value (proto2, proto3 `optional`, oneof members, messages). */
export function hasPresence(field: Field): boolean {
  const presence = (field as unknown as { _features?: { field_presence?: string } })._features?.field_presence;
  return presence !== 'IMPLICIT' || !!field.partOf || field.resolvedType instanceof protobuf.Type;
}

/** Whether unknown numbers of this enum are refused (proto2's closed enums) rather than kept (open). */
export function isClosed(e: protobuf.Enum): boolean {
  return (e as unknown as { _features?: { enum_type?: string } })._features?.enum_type === 'CLOSED';
}

/**
 * An enum number read from the wire as its name. An open enum (proto3) keeps a number it does not
 * define as the number. A closed enum (proto2) never hands one to the application: protobuf parsers
 * move it to the unknown fields, which stateshift does not keep, so reading it fails instead.
 */
export function enumValue(e: protobuf.Enum, n: number): string | number {
  const name = e.valuesById[n];
  if (name !== undefined) return name;
  if (isClosed(e)) throw new RangeError(`${n} is not a value of the closed enum ${e.name} (${Object.keys(e.values).join(', ')})`);
  return n;
}

function readScalar(r: Reader, field: Field, type: string): unknown {
  if (field.resolvedType instanceof protobuf.Enum && type === field.type) return enumValue(field.resolvedType, r.int32());
  if (LONG.has(type)) return toBigInt((r as unknown as Record<string, () => LongLike>)[type](), UNSIGNED_LONG.has(type));
  if (type === 'bytes') return new Uint8Array(r.bytes());
  return (r as unknown as Record<string, () => unknown>)[type]();
}

function scalarDefault(field: Field, type: string): unknown {
  if (field.resolvedType instanceof protobuf.Enum && type === field.type) {
    // The first declared value (proto2's rule; proto3 and editions require it to be 0).
    const d = field.options?.default ?? Object.keys(field.resolvedType.values)[0];
    return d;
  }
  const declared = field.options?.default;
  if (LONG.has(type)) return declared === undefined ? 0n : BigInt(declared);
  switch (type) {
    case 'string':
      return declared ?? '';
    case 'bytes':
      return new Uint8Array(0);
    case 'bool':
      return declared ?? false;
    default:
      return declared ?? 0;
  }
}

/** A value with every field at its default (oneof members unset, messages null), as decoding gives. */
const templates = new WeakMap<Type, { scalars: Record<string, unknown>; lists: string[]; maps: string[]; bytes: string[] }>();

export function defaults(type: Type): Record<string, unknown> {
  let t = templates.get(type);
  if (!t) {
    t = { scalars: {}, lists: [], maps: [], bytes: [] };
    for (const f of type.fieldsArray) {
      if (f.partOf) continue;
      if (f.map) t.maps.push(f.name);
      else if (f.repeated) t.lists.push(f.name);
      else if (f.resolvedType instanceof protobuf.Type) t.scalars[f.name] = null;
      else if (f.type === 'bytes') t.bytes.push(f.name);
      else t.scalars[f.name] = scalarDefault(f, f.type);
    }
    templates.set(type, t);
  }
  // Fresh lists, maps and byte arrays per value; scalars are immutable and shared.
  const out: Record<string, unknown> = { ...t.scalars };
  for (const name of t.lists) out[name] = [];
  for (const name of t.maps) out[name] = {};
  for (const name of t.bytes) out[name] = new Uint8Array(0);
  return out;
}

/** A map field's entries (interpreted: maps are rare on hot paths). */
export function encodeMap(w: Writer, p: FieldPlan, v: unknown, where: string, encodeValue: (w: Writer, type: Type, value: unknown, path: string) => void): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EncodeError(`expected an object for map field, got ${describe(v)}`, where);
  const f = p.field;
  for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
    w.uint32((p.id << 3) | 2).fork();
    w.uint32((1 << 3) | WIRE[p.keyType]);
    writeScalar(w, f, p.keyType, p.keyType === 'bool' ? k === 'true' : LONG.has(p.keyType) ? BigInt(k) : p.keyType === 'string' ? k : Number(k), `${where}{key}`);
    w.uint32((2 << 3) | p.wire);
    if (p.message) {
      w.fork();
      encodeValue(w, p.message, e, `${where}{value}`);
      w.ldelim();
    } else writeScalar(w, f, f.type, e, `${where}{value}`);
    w.ldelim();
  }
}

export function decodeMapEntry(r: Reader, p: FieldPlan, target: Record<string, unknown>, decodeValue: (r: Reader, type: Type, end: number) => unknown): void {
  const f = p.field;
  const entryEnd = r.uint32() + r.pos;
  let k: unknown = scalarDefault(f, p.keyType);
  let e: unknown = p.message ? defaults(p.message) : scalarDefault(f, f.type);
  while (r.pos < entryEnd) {
    const t = r.uint32();
    if (t >>> 3 === 1) k = readScalar(r, f, p.keyType);
    else if (t >>> 3 === 2) e = p.message ? decodeValue(r, p.message, r.uint32() + r.pos) : readScalar(r, f, f.type);
    else r.skipType(t & 7);
  }
  target[String(k)] = e;
}

export { describe, planOf, readScalar, writeScalar, toBigInt, PACKABLE, LONG, RANGE, type FieldPlan, type TypePlan, type Writer, type Reader };
