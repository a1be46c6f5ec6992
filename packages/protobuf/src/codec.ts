/**
 * What the generated codec (compile.ts) needs of a message type, computed once per type: field
 * plans, default values in stateshift's value model (64-bit integers as bigint, enums by name,
 * bytes as Uint8Array, maps as `Map`, unset messages and oneof members as null).
 */
import protobuf from 'protobufjs';

export type Type = protobuf.Type;
export type Field = protobuf.Field;

export const LONG = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
export const isLong = (type: string) => LONG.has(type);
export const PACKABLE = new Set(Object.keys(protobuf.types.packed));
const WIRE = protobuf.types.basic as Record<string, number>;

const INT32: [number, number] = [-2147483648, 2147483647];
const UINT32: [number, number] = [0, 4294967295];
export const RANGE: Record<string, [number, number]> = { int32: INT32, sint32: INT32, sfixed32: INT32, uint32: UINT32, fixed32: UINT32 };

export interface FieldPlan {
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

export interface TypePlan {
  fields: FieldPlan[];
  names: Set<string>;
}

const plans = new WeakMap<Type, TypePlan>();

export function planOf(type: Type): TypePlan {
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
  plan = { fields, names: new Set(fields.map((f) => f.name)) };
  plans.set(type, plan);
  return plan;
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
 * An enum number as its name. An open enum (proto3) keeps a number it does not define as the
 * number. A closed enum (proto2) never hands one to the application: protobuf parsers move it to
 * the unknown fields, which stateshift does not keep, so reading it fails instead (RangeError).
 */
export function enumValue(e: protobuf.Enum, n: number): string | number {
  const name = e.valuesById[n];
  if (name !== undefined) return name;
  if (isClosed(e)) throw new RangeError(`${n} is not a value of the closed enum ${e.name} (${Object.keys(e.values).join(', ')})`);
  return n;
}

/**
 * The default of a scalar or enum field: its declared default (proto2), else zero, '' or the first
 * declared enum value (proto2's rule; proto3 and editions require it to be 0).
 */
function scalarDefault(field: Field): unknown {
  const declared = field.options?.default;
  if (field.resolvedType instanceof protobuf.Enum) return declared ?? Object.keys(field.resolvedType.values)[0];
  if (LONG.has(field.type)) return declared === undefined ? 0n : BigInt(declared);
  switch (field.type) {
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

/** A value with every field at its default (oneof members and messages null), as decoding gives. */
const templates = new WeakMap<Type, { scalars: Record<string, unknown>; lists: string[]; maps: string[]; bytes: string[] }>();

export function defaults(type: Type): Record<string, unknown> {
  let t = templates.get(type);
  if (!t) {
    t = { scalars: {}, lists: [], maps: [], bytes: [] };
    for (const f of type.fieldsArray) {
      if (f.map) t.maps.push(f.name);
      else if (f.repeated) t.lists.push(f.name);
      else if (f.partOf || f.resolvedType instanceof protobuf.Type) t.scalars[f.name] = null;
      else if (f.type === 'bytes') t.bytes.push(f.name);
      else t.scalars[f.name] = scalarDefault(f);
    }
    templates.set(type, t);
  }
  // Fresh lists, maps and byte arrays per value; scalars are immutable and shared.
  const out: Record<string, unknown> = { ...t.scalars };
  for (const name of t.lists) out[name] = [];
  for (const name of t.maps) out[name] = new Map();
  for (const name of t.bytes) out[name] = new Uint8Array(0);
  return out;
}
defaults.scalar = scalarDefault;
