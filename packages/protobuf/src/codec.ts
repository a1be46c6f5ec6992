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
    if (typeof n !== 'number' || !Number.isInteger(n)) throw wrong(`a value of enum ${field.resolvedType.name} (${Object.keys(field.resolvedType.values).join(', ')})`);
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

function readScalar(r: Reader, field: Field, type: string): unknown {
  if (field.resolvedType instanceof protobuf.Enum && type === field.type) {
    const n = r.int32();
    return field.resolvedType.valuesById[n] ?? n;
  }
  if (LONG.has(type)) return toBigInt((r as unknown as Record<string, () => LongLike>)[type](), UNSIGNED_LONG.has(type));
  if (type === 'bytes') return new Uint8Array(r.bytes());
  return (r as unknown as Record<string, () => unknown>)[type]();
}

function scalarDefault(field: Field, type: string): unknown {
  if (field.resolvedType instanceof protobuf.Enum && type === field.type) {
    const d = field.options?.default ?? field.resolvedType.valuesById[0] ?? Object.keys(field.resolvedType.values)[0];
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

export function encodeMessage(w: Writer, type: Type, value: unknown, path = type.name): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EncodeError(`expected an object for ${type.name}, got ${describe(value)}`, path);
  const record = value as Record<string, unknown>;
  const plan = planOf(type);
  for (const key in record) {
    // protobufjs would drop an unknown key silently, losing the value.
    if (!plan.names.has(key) && record[key] !== undefined) throw new EncodeError(`${type.name} has no field "${key}"; its fields are ${[...plan.names].join(', ')}`, path);
  }
  for (const p of plan.fields) {
    const v = record[p.name];
    if (v === undefined || v === null) {
      if (p.required) throw new EncodeError('required field is missing', `${path}.${p.name}`);
      continue;
    }
    const f = p.field;
    if (p.map) {
      const where = `${path}.${p.name}`;
      if (typeof v !== 'object' || Array.isArray(v)) throw new EncodeError(`expected an object for map field, got ${describe(v)}`, where);
      for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
        w.uint32((p.id << 3) | 2).fork();
        w.uint32((1 << 3) | WIRE[p.keyType]);
        writeScalar(w, f, p.keyType, p.keyType === 'bool' ? k === 'true' : LONG.has(p.keyType) ? BigInt(k) : p.keyType === 'string' ? k : Number(k), `${where}{key}`);
        w.uint32((2 << 3) | p.wire);
        if (p.message) {
          w.fork();
          encodeMessage(w, p.message, e, `${where}{value}`);
          w.ldelim();
        } else writeScalar(w, f, f.type, e, `${where}{value}`);
        w.ldelim();
      }
    } else if (p.repeated) {
      if (!Array.isArray(v)) throw new EncodeError(`expected an array, got ${describe(v)}`, `${path}.${p.name}`);
      if (p.packed) {
        if (!v.length) continue;
        w.uint32((p.id << 3) | 2).fork();
        for (let i = 0; i < v.length; i++) writeScalar(w, f, f.type, v[i], `${path}.${p.name}[${i}]`);
        w.ldelim();
      } else for (let i = 0; i < v.length; i++) writeOne(w, p, v[i], `${path}.${p.name}[${i}]`);
    } else writeOne(w, p, v, `${path}.${p.name}`);
  }
}

function writeOne(w: Writer, p: FieldPlan, v: unknown, where: string): void {
  w.uint32((p.id << 3) | p.wire);
  if (p.message) {
    w.fork();
    encodeMessage(w, p.message, v, where);
    w.ldelim();
  } else writeScalar(w, p.field, p.field.type, v, where);
}

export function decodeMessage(r: Reader, type: Type, length?: number): Record<string, unknown> {
  const end = length === undefined ? r.len : r.pos + length;
  const out = defaults(type);
  const plan = planOf(type);
  while (r.pos < end) {
    const tag = r.uint32();
    const p = plan.byId.get(tag >>> 3);
    const wire = tag & 7;
    if (!p) {
      r.skipType(wire);
      continue;
    }
    const f = p.field;
    if (p.map) {
      const entryEnd = r.uint32() + r.pos;
      let k: unknown = scalarDefault(f, p.keyType);
      let e: unknown = p.message ? defaults(p.message) : scalarDefault(f, f.type);
      while (r.pos < entryEnd) {
        const t = r.uint32();
        if (t >>> 3 === 1) k = readScalar(r, f, p.keyType);
        else if (t >>> 3 === 2) e = p.message ? decodeMessage(r, p.message, r.uint32()) : readScalar(r, f, f.type);
        else r.skipType(t & 7);
      }
      (out[p.name] as Record<string, unknown>)[String(k)] = e;
    } else if (p.repeated) {
      const list = out[p.name] as unknown[];
      if (wire === 2 && !p.message && (PACKABLE.has(f.type) || f.resolvedType)) {
        const packedEnd = r.uint32() + r.pos;
        while (r.pos < packedEnd) list.push(readScalar(r, f, f.type));
      } else list.push(p.message ? decodeMessage(r, p.message, r.uint32()) : readScalar(r, f, f.type));
    } else if (wire !== p.wire) {
      r.skipType(wire);
    } else {
      out[p.name] = p.message ? decodeMessage(r, p.message, r.uint32()) : readScalar(r, f, f.type);
    }
  }
  if (r.pos > end) throw new DecodeError(`a ${type.name} message runs past its length`, r.pos);
  return out;
}

export function encode(type: Type, value: unknown): Uint8Array {
  const w = protobuf.Writer.create();
  encodeMessage(w, type, value);
  return w.finish();
}

export function decode(type: Type, bytes: Uint8Array): Record<string, unknown> {
  return decodeMessage(protobuf.Reader.create(bytes), type);
}
