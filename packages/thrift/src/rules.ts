/**
 * Thrift's evolution rules by field id (reader = the new IDL, writer = the stored one), after the
 * Thrift IDL specification (field ids, requiredness, defaults, types) and what its reference
 * implementations do with the bytes: optional or defaulted fields added, fields removed or
 * renamed, required made optional read as is; a required field added without a default, or
 * optional made required without a default, is incompatible; i8/i16/i32/i64 widening migrates
 * (Thrift's generated readers would skip such a field: here the value is kept); string and binary,
 * enum and i32 read as is (binary to string checked per value); an enum that lost a number, or a
 * struct made a union, is incompatible; a changed default migrates so stored structs keep the value
 * they read before. The README's table gives the source of each rule.
 */
import { fieldPath, Verdict } from '@stateshift/core';
import { structOf, typeName, type ThriftModel, type ThriftStruct, type ThriftType } from './model.js';

const WIDTH: Record<string, number> = { i8: 8, i16: 16, i32: 32, i64: 64 };
const utf8 = new TextDecoder('utf-8', { fatal: true });

function strictUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new RangeError('stored binary is not valid UTF-8, so it cannot be read as a string; give the state a `migrate` converter that decides what to keep');
  }
}

type Relation = 'same' | 'asIs' | 'widen' | 'incompatible';

/** How values of `from` read as `to`, collecting nested changes. */
function relate(next: ThriftModel, prev: ThriftModel, to: ThriftType, from: ThriftType, where: string, v: Verdict): Relation {
  if (to.kind === 'string' && from.kind === 'binary') {
    v.changes.push({ path: where, message: 'binary read as string: each stored value must be valid UTF-8; one that is not fails to read (DecodeError), never replaced' });
    return 'same';
  }
  if ((to.kind === 'binary' && from.kind === 'string') || (to.kind === 'enum' && from.kind === 'i32') || (to.kind === 'i32' && from.kind === 'enum')) return 'asIs';
  if (WIDTH[to.kind] && WIDTH[from.kind]) return WIDTH[to.kind] === WIDTH[from.kind] ? 'same' : WIDTH[to.kind] > WIDTH[from.kind] ? 'widen' : 'incompatible';
  if (to.kind !== from.kind) return 'incompatible';
  switch (to.kind) {
    case 'struct': {
      const [now, before] = [structOf(next, to.name), structOf(prev, (from as { name: string }).name)];
      if (now.union && !before.union) {
        v.problems.push({ path: where || now.name, message: `struct ${before.name} made a union: a stored struct may set several fields, a union keeps one` });
        return 'same';
      }
      walk(next, prev, now, before, v);
      return 'same';
    }
    case 'enum':
      compareEnums(next, prev, to.name, (from as { name: string }).name, where, v);
      return 'same';
    case 'list':
    case 'set': {
      const r = relate(next, prev, to.elem, (from as { elem: ThriftType }).elem, `${where}[]`, v);
      return r === 'widen' ? 'widen' : r;
    }
    case 'map': {
      const f = from as { key: ThriftType; value: ThriftType };
      const k = relate(next, prev, to.key, f.key, `${where}{key}`, v);
      const val = relate(next, prev, to.value, f.value, `${where}{value}`, v);
      if (k === 'incompatible' || val === 'incompatible') return 'incompatible';
      return k === 'widen' || val === 'widen' ? 'widen' : k === 'asIs' || val === 'asIs' ? 'asIs' : 'same';
    }
    default:
      return 'same';
  }
}

/**
 * Enum values match by number (an enum is an i32 on the wire). The IDL specification says nothing
 * of unknown numbers and the reference implementations differ (Java's findByValue gives null, so
 * the field reads as unset; Python and C++ keep the number): a stored number the new enum no longer
 * defines is refused, the reading that loses no value in any of them.
 */
function compareEnums(next: ThriftModel, prev: ThriftModel, toName: string, fromName: string, where: string, v: Verdict): void {
  const [now, before] = [next.enums.get(toName)!, prev.enums.get(fromName)!];
  const names = new Map([...now].map(([name, n]) => [n, name]));
  const lost: string[] = [];
  for (const [name, n] of before) {
    const renamed = names.get(n);
    if (renamed === undefined) lost.push(`${name} (${n})`);
    else if (renamed !== name) v.changes.push({ path: where, message: `enum value ${n} renamed from ${name} to ${renamed}` });
  }
  if (lost.length) v.problems.push({ path: where, message: `enum ${toName} no longer defines ${lost.join(', ')}; stored values with these numbers would be lost: keep them in the enum` });
}

/** Defaults compared as values (bigint, bytes, Set and Map included). */
function sameDefault(a: unknown, b: unknown): boolean {
  const text = (x: unknown) => JSON.stringify(x, (_k, e) => (typeof e === 'bigint' ? `${e}n` : e instanceof Uint8Array ? [...e] : e instanceof Set ? { set: [...e] } : e instanceof Map ? { map: [...e] } : e));
  return text(a) === text(b);
}

function walk(next: ThriftModel, prev: ThriftModel, to: ThriftStruct, from: ThriftStruct, v: Verdict): void {
  if (!v.firstVisit(`${to.name}<${from.name}`)) return;
  if (to.name !== from.name) v.changes.push({ path: to.name, message: `renamed from ${from.name}` });
  for (const field of to.fields) {
    const where = fieldPath(to.name, field.name, field.id);
    const old = from.byId.get(field.id);
    if (!old) {
      if (field.requiredness === 'required' && field.default === undefined) v.problems.push({ path: where, message: 'a required field without a default was added; stored structs lack it' });
      else v.changes.push({ path: where, message: 'field added; stored structs read its default' });
      continue;
    }
    if (old.name !== field.name) v.changes.push({ path: where, message: `renamed from ${old.name}` });
    if (field.requiredness === 'required' && old.requiredness !== 'required') {
      if (field.default === undefined) v.problems.push({ path: where, message: `${old.requiredness === 'optional' ? 'optional' : 'default'} made required without a default; stored structs may lack it` });
      else v.changes.push({ path: where, message: 'made required; stored structs that lack it read the default' });
    } else if (old.requiredness === 'required' && field.requiredness !== 'required') v.changes.push({ path: where, message: 'required made optional' });
    if (old.default !== undefined && !sameDefault(old.default, field.default)) {
      // A stored struct that lacks the field read the old default; migrating keeps that value.
      v.migrate = true;
      v.changes.push({ path: where, message: `default changed: stored structs that lack the field keep the old default` });
    }
    const r = relate(next, prev, field.type, old.type, where, v);
    if (r === 'incompatible') v.problems.push({ path: where, message: `${typeName(old.type)} to ${typeName(field.type)}: Thrift cannot read one as the other; give the state a \`migrate\` converter` });
    else if (r === 'widen') {
      v.migrate = true;
      v.changes.push({ path: where, message: `${typeName(old.type)} widened to ${typeName(field.type)} (stored values are kept; Thrift's own readers would drop them)` });
    } else if (r === 'asIs') v.changes.push({ path: where, message: `${typeName(old.type)} read as ${typeName(field.type)}` });
  }
  for (const old of from.fields) {
    if (to.byId.has(old.id)) continue;
    const path = fieldPath(to.name, old.name, old.id);
    // A stored union that set the removed member would read with no member set, which no union may be.
    if (to.union && from.union) v.problems.push({ path, message: `member removed from the union ${to.name}; stored unions that set it would be left empty: keep the member, or give the state a \`migrate\` converter` });
    else v.changes.push({ path, message: 'field removed; stored values are skipped' });
  }
}

export function compareStructs(next: ThriftModel, prev: ThriftModel, to: ThriftStruct, from: ThriftStruct): Verdict {
  const v = new Verdict();
  walk(next, prev, to, from, v);
  return v;
}

/** A value read with the stored IDL, reshaped for the new one by field id (widening integers). */
export function convertStruct(next: ThriftModel, prev: ThriftModel, to: ThriftStruct, from: ThriftStruct, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of to.fields) out[f.name] = f.default === undefined ? null : typeof f.default === 'object' && f.default !== null ? structuredClone(f.default) : f.default;
  for (const field of to.fields) {
    const old = from.byId.get(field.id);
    if (!old || value[old.name] === undefined || value[old.name] === null) continue;
    out[field.name] = convert(next, prev, field.type, old.type, value[old.name]);
  }
  return out;
}

function convert(next: ThriftModel, prev: ThriftModel, to: ThriftType, from: ThriftType, v: unknown): unknown {
  switch (to.kind) {
    case 'i64':
      return typeof v === 'bigint' ? v : BigInt(v as number);
    case 'i32':
      // An enum read as i32: its number.
      return typeof v === 'string' ? prev.enums.get((from as { name: string }).name)!.get(v) : v;
    case 'enum':
      // An i32 read as an enum: its name (a number the enum lacks stays a number and is refused on write).
      return typeof v === 'number' ? ([...next.enums.get(to.name)!].find(([, n]) => n === v)?.[0] ?? v) : v;
    case 'string':
      return v instanceof Uint8Array ? strictUtf8(v) : v;
    case 'binary':
      return typeof v === 'string' ? new TextEncoder().encode(v) : v;
    case 'struct':
      return convertStruct(next, prev, structOf(next, to.name), structOf(prev, (from as { name: string }).name), v as Record<string, unknown>);
    case 'list':
      return (v as unknown[]).map((e) => convert(next, prev, to.elem, (from as { elem: ThriftType }).elem, e));
    case 'set':
      return new Set([...(v as Set<unknown>)].map((e) => convert(next, prev, to.elem, (from as { elem: ThriftType }).elem, e)));
    case 'map': {
      const f = from as { key: ThriftType; value: ThriftType };
      return new Map([...(v as Map<unknown, unknown>)].map(([k, e]) => [convert(next, prev, to.key, f.key, k), convert(next, prev, to.value, f.value, e)]));
    }
    default:
      return v;
  }
}
