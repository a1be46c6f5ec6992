/**
 * Thrift's evolution rules by field id (reader = the new IDL, writer = the stored one): optional or
 * defaulted fields added, fields removed or renamed, required made optional read as is; a required
 * field added without a default, or optional made required without a default, is incompatible;
 * i8/i16/i32/i64 widening migrates (Thrift's generated readers would drop such a field: here the
 * value is kept); string and binary, enum and i32 read as is; anything else is incompatible.
 */
import { fieldPath, Verdict } from '@stateshift/core';
import { structOf, typeName, type ThriftModel, type ThriftStruct, type ThriftType } from './model.js';

const WIDTH: Record<string, number> = { i8: 8, i16: 16, i32: 32, i64: 64 };

type Relation = 'same' | 'asIs' | 'widen' | 'incompatible';

/** How values of `from` read as `to`, collecting nested changes. */
function relate(next: ThriftModel, prev: ThriftModel, to: ThriftType, from: ThriftType, where: string, v: Verdict): Relation {
  if ((to.kind === 'string' && from.kind === 'binary') || (to.kind === 'binary' && from.kind === 'string')) return 'asIs';
  if ((to.kind === 'enum' && from.kind === 'i32') || (to.kind === 'i32' && from.kind === 'enum')) return 'asIs';
  if (WIDTH[to.kind] && WIDTH[from.kind]) return WIDTH[to.kind] === WIDTH[from.kind] ? 'same' : WIDTH[to.kind] > WIDTH[from.kind] ? 'widen' : 'incompatible';
  if (to.kind !== from.kind) return 'incompatible';
  switch (to.kind) {
    case 'struct':
      walk(next, prev, structOf(next, to.name), structOf(prev, (from as { name: string }).name), v);
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
    const r = relate(next, prev, field.type, old.type, where, v);
    if (r === 'incompatible') v.problems.push({ path: where, message: `${typeName(old.type)} to ${typeName(field.type)}: Thrift cannot read one as the other; give the state a \`migrate\` converter` });
    else if (r === 'widen') {
      v.migrate = true;
      v.changes.push({ path: where, message: `${typeName(old.type)} widened to ${typeName(field.type)} (stored values are kept; Thrift's own readers would drop them)` });
    } else if (r === 'asIs') v.changes.push({ path: where, message: `${typeName(old.type)} read as ${typeName(field.type)}` });
  }
  for (const old of from.fields) if (!to.byId.has(old.id)) v.changes.push({ path: fieldPath(to.name, old.name, old.id), message: 'field removed; stored values are skipped' });
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
      return v instanceof Uint8Array ? new TextDecoder().decode(v) : v;
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
