/**
 * Protobuf's own update rules, by field number (reader = the new type, writer = the stored one):
 * added, removed and renamed fields and messages read as is; a type change within a wire-compatible
 * group reads as is (lossy where values can be cut); a change whose values convert but whose bytes
 * differ migrates; anything else, a proto2 required field added, or a field moved into an existing
 * oneof is incompatible, named `Message.field (#n)`.
 */
import protobuf from 'protobufjs';
import { fieldPath, Verdict, type SchemaChange } from '@stateshift/core';
import { defaults, isLong, type Field, type Type } from './codec.js';

/** Scalar types that share a wire encoding, and so read each other's bytes. */
const WIRE_GROUPS = [
  ['int32', 'uint32', 'int64', 'uint64', 'bool', 'enum'],
  ['sint32', 'sint64'],
  ['fixed32', 'sfixed32'],
  ['fixed64', 'sfixed64'],
  ['string', 'bytes'],
];
const INTEGERS = new Set(['int32', 'uint32', 'int64', 'uint64', 'sint32', 'sint64', 'fixed32', 'sfixed32', 'fixed64', 'sfixed64']);
const BITS: Record<string, number> = { int32: 32, sint32: 32, sfixed32: 32, uint32: 32, fixed32: 32, int64: 64, sint64: 64, sfixed64: 64, uint64: 64, fixed64: 64 };
const UNSIGNED = new Set(['uint32', 'uint64', 'fixed32', 'fixed64']);

function kindOf(field: Field): string {
  if (field.resolvedType instanceof protobuf.Enum) return 'enum';
  if (field.resolvedType instanceof protobuf.Type) return 'message';
  return field.type;
}

/** Whether every value of `from` fits in `to` without change (widening within integers). */
function fits(from: string, to: string): boolean {
  if (from === to) return true;
  if (from === 'bool') return INTEGERS.has(to) || to === 'enum';
  if (from === 'enum') return INTEGERS.has(to) && !UNSIGNED.has(to) && BITS[to] >= 32;
  if (!INTEGERS.has(from) || !INTEGERS.has(to)) return false;
  if (UNSIGNED.has(from)) return UNSIGNED.has(to) ? BITS[to] >= BITS[from] : BITS[to] > BITS[from];
  return !UNSIGNED.has(to) && BITS[to] >= BITS[from];
}

function scalarChange(from: string, to: string, where: string): { kind: 'asIs' | 'migrate' | 'incompatible'; change: SchemaChange } {
  if (WIRE_GROUPS.some((g) => g.includes(from) && g.includes(to))) {
    const lossy = !(from === 'string' || from === 'bytes') && !fits(from, to);
    return {
      kind: 'asIs',
      change: { path: where, message: `${from} to ${to}: the same wire encoding${lossy ? '; values outside the new range are cut' : ''}`, ...(lossy ? { lossy: true } : {}) },
    };
  }
  const convertible = (from === 'float' && to === 'double') || (INTEGERS.has(from) && INTEGERS.has(to) && fits(from, to));
  if (convertible) return { kind: 'migrate', change: { path: where, message: `${from} to ${to}: values convert without loss but the bytes differ` } };
  return { kind: 'incompatible', change: { path: where, message: `${from} to ${to}: protobuf cannot read one as the other; give the state a \`migrate\` converter` } };
}

export function compareTypes(next: Type, previous: Type): Verdict {
  const v = new Verdict();
  walk(next, previous, v);
  return v;
}

function walk(next: Type, previous: Type, v: Verdict): void {
  if (!v.firstVisit(`${next.fullName}<${previous.fullName}`)) return;
  if (next.name !== previous.name) v.changes.push({ path: next.name, message: `message renamed from ${previous.name}` });
  const oneofsBefore = new Set(previous.oneofsArray.map((o) => o.name));
  for (const field of next.fieldsArray) {
    const where = fieldPath(next.name, field.name, field.id);
    const old = previous.fieldsById[field.id];
    if (!old) {
      if (field.required) v.problems.push({ path: where, message: 'a required field was added; stored messages lack it' });
      else v.changes.push({ path: where, message: 'field added; stored messages read its default' });
      continue;
    }
    if (old.name !== field.name) v.changes.push({ path: where, message: `renamed from ${old.name}` });
    if (field.partOf && field.partOf.name !== old.partOf?.name && oneofsBefore.has(field.partOf.name)) {
      v.problems.push({ path: where, message: `moved into the existing oneof ${field.partOf.name}; stored messages may set it together with another member` });
    }
    if (!!field.map !== !!old.map) {
      v.problems.push({ path: where, message: `${old.map ? 'a map' : 'not a map'} before, ${field.map ? 'a map' : 'not a map'} now` });
      continue;
    }
    const keyTypeOf = (f: Field) => (f as unknown as { keyType: string }).keyType;
    if (field.map && keyTypeOf(field) !== keyTypeOf(old)) {
      const c = scalarChange(keyTypeOf(old), keyTypeOf(field), `${where} key`);
      if (c.kind !== 'asIs') {
        v.problems.push({ path: where, message: `map key ${c.change.message}` });
        continue;
      }
    }
    const from = kindOf(old);
    const to = kindOf(field);
    if (field.repeated !== old.repeated && !field.map) {
      // Packed and unpacked encodings differ: read with the stored type and reshape.
      v.migrate = true;
      v.changes.push({ path: where, message: old.repeated ? 'repeated made singular: the last value is kept' : 'singular made repeated: the value becomes a one-element list', ...(old.repeated ? { lossy: true } : {}) });
    }
    if (from === 'message' || to === 'message') {
      if (from !== to) v.problems.push({ path: where, message: `${old.type} to ${field.type}: a message and a scalar do not read each other` });
      else walk(field.resolvedType as Type, old.resolvedType as Type, v);
      continue;
    }
    if (from === to) continue;
    const c = scalarChange(from, to, where);
    if (c.kind === 'incompatible') v.problems.push(c.change);
    else {
      v.changes.push(c.change);
      if (c.kind === 'migrate') v.migrate = true;
    }
  }
  for (const old of previous.fieldsArray) {
    if (!next.fieldsById[old.id]) v.changes.push({ path: fieldPath(next.name, old.name, old.id), message: 'field removed; its stored values are skipped' });
  }
}

/** Converts a value of the stored type into the new type's shape, by field number. */
export function convertValue(next: Type, previous: Type, value: Record<string, unknown>): Record<string, unknown> {
  // Fields the stored message lacks read as their defaults, as decoding would give them.
  const out: Record<string, unknown> = defaults(next);
  for (const field of next.fieldsArray) {
    const old = previous.fieldsById[field.id];
    if (!old || value[old.name] === undefined || value[old.name] === null) continue;
    const one = (e: unknown) => convertScalar(field, old, e);
    let v = value[old.name];
    if (field.map) v = new Map([...(v as Map<unknown, unknown>)].map(([k, e]) => [convertKey((field as unknown as { keyType: string }).keyType, k), one(e)]));
    else if (field.repeated && !old.repeated) v = [one(v)];
    else if (!field.repeated && old.repeated) {
      const list = v as unknown[];
      if (!list.length) continue;
      v = one(list[list.length - 1]);
    } else v = field.repeated ? (v as unknown[]).map(one) : one(v);
    out[field.name] = v;
  }
  return out;
}

/** A map key as the new key type holds it (an int64 key is a bigint). */
function convertKey(type: string, k: unknown): unknown {
  if (isLong(type)) return BigInt(k as number | bigint);
  if (type === 'bool') return Boolean(k);
  return typeof k === 'bigint' ? Number(k) : k;
}

function convertScalar(field: Field, old: Field, v: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Type) return convertValue(field.resolvedType, old.resolvedType as Type, v as Record<string, unknown>);
  if (field.resolvedType instanceof protobuf.Enum) {
    if (typeof v === 'string') return v;
    return field.resolvedType.valuesById[Number(v)] ?? Number(v);
  }
  if (old.resolvedType instanceof protobuf.Enum && typeof v === 'string') v = old.resolvedType.values[v];
  if (isLong(field.type)) return BigInt(v as number | bigint | boolean as number);
  if (field.type === 'bool') return Boolean(v);
  if (field.type === 'string' && v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (field.type === 'bytes' && typeof v === 'string') return new Uint8Array(Buffer.from(v, 'utf8'));
  if (typeof v === 'bigint') return Number(v);
  return v;
}
