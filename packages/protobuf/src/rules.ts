/**
 * Protobuf's own update rules, by field number (reader = the new type, writer = the stored one),
 * after the language guide's "Updating A Message Type", its enum and maps sections, and buf's
 * WIRE breaking rules. A change the new reader handles on the stored bytes exactly as protobuf
 * parsers do reads as is; one whose values convert but whose bytes differ migrates; one that could
 * change or drop values is marked lossy, or refused where protobuf would hide the value (closed
 * enums); anything else is incompatible, named `Message.field (#n)`. The README's table gives the
 * source of each rule.
 */
import protobuf from 'protobufjs';
import { fieldPath, Verdict, type SchemaChange } from '@stateshift/core';
import { defaults, enumValue, hasPresence, isClosed, isLong, type Field, type Type } from './codec.js';

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
/** Types whose repeated fields are written packed (numbers, bools, enums), unlike string, bytes and messages. */
const LENGTH_DELIMITED = new Set(['string', 'bytes', 'message']);

function kindOf(field: Field): string {
  if (field.resolvedType instanceof protobuf.Enum) return 'enum';
  if (field.resolvedType instanceof protobuf.Type) return 'message';
  return field.type;
}

const keyTypeOf = (f: Field) => (f as unknown as { keyType: string }).keyType;

/** Whether every value of `from` fits in `to` without change (widening within integers). */
function fits(from: string, to: string): boolean {
  if (from === to) return true;
  if (from === 'bool') return INTEGERS.has(to) || to === 'enum';
  if (from === 'enum') return INTEGERS.has(to) && !UNSIGNED.has(to) && BITS[to] >= 32;
  if (to === 'enum') return fits(from, 'int32'); // enums are int32 on the wire
  if (!INTEGERS.has(from) || !INTEGERS.has(to)) return false;
  if (UNSIGNED.has(from)) return UNSIGNED.has(to) ? BITS[to] >= BITS[from] : BITS[to] > BITS[from];
  return !UNSIGNED.has(to) && BITS[to] >= BITS[from];
}

function scalarChange(from: string, to: string, where: string): { kind: 'asIs' | 'migrate' | 'incompatible'; change: SchemaChange } {
  if (from === 'bytes' && to === 'string') {
    // The guide: compatible "as long as the bytes are valid UTF-8". Read as bytes, checked one by one.
    return { kind: 'migrate', change: { path: where, message: 'bytes to string: each stored value must be valid UTF-8; one that is not fails to read (DecodeError), never replaced' } };
  }
  if (WIRE_GROUPS.some((g) => g.includes(from) && g.includes(to))) {
    const lossy = from !== 'string' && !fits(from, to);
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

/** The repeated entry message a map field is equivalent to (guide, "Backwards compatibility" of maps), if `field` is one. */
function entryOf(field: Field): Type | undefined {
  if (!field.repeated || field.map || !(field.resolvedType instanceof protobuf.Type)) return undefined;
  const entry = field.resolvedType;
  const ids = entry.fieldsArray.map((f) => f.id).sort();
  const [key, value] = [entry.fieldsById[1], entry.fieldsById[2]];
  if (ids.join() !== '1,2' || key.repeated || value.repeated || key.resolvedType) return undefined;
  return entry;
}

/** A proto2 default or the type's zero, as a number-or-string key, for comparing defaults across types. */
function defaultKey(type: Type, field: Field): string | undefined {
  if (field.repeated || field.map || field.partOf || field.resolvedType instanceof protobuf.Type) return undefined;
  const d = defaults(type)[field.name];
  if (field.resolvedType instanceof protobuf.Enum) return String(typeof d === 'string' ? field.resolvedType.values[d] : d);
  return typeof d === 'boolean' ? String(Number(d)) : String(d);
}

function walk(next: Type, previous: Type, v: Verdict): void {
  if (!v.firstVisit(`${next.fullName}<${previous.fullName}`)) return;
  if (next.name !== previous.name) v.changes.push({ path: next.name, message: `message renamed from ${previous.name}` });
  walkOneofs(next, previous, v);
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
    if (field.required && !old.required) v.problems.push({ path: where, message: 'made required; stored messages may lack it' });
    if (field.partOf && field.partOf.name !== old.partOf?.name && oneofsBefore.has(field.partOf.name)) {
      v.problems.push({ path: where, message: `moved into the existing oneof ${field.partOf.name}; stored messages may set it together with another member` });
    }
    if (field.map || old.map) {
      walkMap(field, old, where, v);
      continue;
    }
    if (field.repeated !== old.repeated && !walkCardinality(field, old, where, v)) continue;
    const gathered = !!field.partOf && gathers(field.partOf, previous); // then the oneof's wire rule decides (walkOneofs)
    if (!hasPresence(old) && hasPresence(field) && !gathered && !field.repeated && !old.repeated && !(field.resolvedType instanceof protobuf.Type)) {
      // A zero value was never on the wire: read as is it would become unset. Migrating keeps it.
      v.migrate = true;
      v.changes.push({ path: where, message: 'now tracks presence (optional or in a oneof): stored zero values are kept as set values' });
    }
    compareValues(field, old, where, v);
    const [before, now] = [defaultKey(previous, old), defaultKey(next, field)];
    if (before !== undefined && now !== undefined && before !== now && !v.problems.some((p) => p.path === where)) {
      // Stored messages that lack the field read the old default; migrating writes it out.
      v.migrate = true;
      v.changes.push({ path: where, message: `default changed from ${before} to ${now}: stored messages that lack the field keep ${before}` });
    }
  }
  for (const old of previous.fieldsArray) {
    if (!next.fieldsById[old.id]) v.changes.push({ path: fieldPath(next.name, old.name, old.id), message: 'field removed; its stored values are skipped' });
  }
}

/**
 * Fields gathered into a oneof: stored messages may set several of them, and a oneof keeps one.
 * The guide: a single field into a new oneof is binary compatible; several "may be safe if you are
 * sure that no code sets more than one at a time": read as protobuf parsers do (the last one on the
 * wire, i.e. the highest field number as every implementation writes them, wins), marked lossy.
 * (Moving into an existing oneof is refused per field in `walk`.)
 */
function walkOneofs(next: Type, previous: Type, v: Verdict): void {
  const oneofsBefore = new Set(previous.oneofsArray.map((o) => o.name));
  for (const oneof of next.oneofsArray) {
    if (oneofsBefore.has(oneof.name)) continue;
    if (gathers(oneof, previous)) {
      const members = oneof.fieldsArray.flatMap((f) => previous.fieldsById[f.id]?.name ?? []);
      v.changes.push({
        path: `${next.name}.${oneof.name}`,
        message: `${members.join(', ')} moved into the new oneof ${oneof.name}: a stored message that set several keeps only the last on the wire`,
        lossy: true,
      });
    }
  }
}

/** Whether a oneof gathers stored fields that could be set together (from several fields or oneofs). */
function gathers(oneof: protobuf.OneOf, previous: Type): boolean {
  const groups = new Set<string>();
  for (const field of oneof.fieldsArray) {
    const old = previous.fieldsById[field.id];
    if (old) groups.add(old.partOf ? `oneof ${old.partOf.name}` : `field ${old.id}`);
  }
  return groups.size > 1;
}

/** Singular to repeated and back; false when the field cannot be read at all. */
function walkCardinality(field: Field, old: Field, where: string, v: Verdict): boolean {
  if (!old.repeated) {
    // Parsers read a single occurrence into a list, packed or not (guide: singular and repeated are compatible).
    v.changes.push({ path: where, message: 'singular made repeated: a stored value becomes a one-element list' });
    return true;
  }
  const kind = kindOf(old);
  if (kind === 'message' && kindOf(field) === 'message') {
    v.changes.push({ path: where, message: 'repeated made singular: the stored messages merge into one, as protobuf parsers merge them (later fields override earlier ones, lists concatenate)', lossy: true });
    return true;
  }
  if (LENGTH_DELIMITED.has(kind)) {
    v.changes.push({ path: where, message: 'repeated made singular: the last stored value is kept, the others dropped', lossy: true });
    return true;
  }
  // Packed numbers are one length-delimited record a singular reader would skip: read and reshape.
  v.migrate = true;
  v.changes.push({ path: where, message: 'repeated made singular: the last stored value is kept, the others dropped', lossy: true });
  return true;
}

/** A map field and its equivalent repeated entry message have the same bytes (guide, maps). */
function walkMap(field: Field, old: Field, where: string, v: Verdict): void {
  if (field.map && old.map) {
    if (keyTypeOf(field) !== keyTypeOf(old)) {
      const c = scalarChange(keyTypeOf(old), keyTypeOf(field), `${where} key`);
      if (c.kind !== 'asIs') {
        v.problems.push({ path: where, message: `map key ${c.change.message}` });
        return;
      }
      const collide = c.change.lossy ? '; two stored keys that become one keep the later entry' : '';
      v.changes.push({ path: where, message: `map key ${c.change.message}${collide}`, ...(c.change.lossy ? { lossy: true } : {}) });
    }
    compareValues(field, old, where, v);
    return;
  }
  const entry = entryOf(field.map ? old : field);
  if (!entry) {
    v.problems.push({ path: where, message: `${old.map ? 'a map' : 'not a map'} before, ${field.map ? 'a map' : 'not a map'} now, and not its equivalent repeated entry message (key = 1, value = 2, nothing else)` });
    return;
  }
  const mapField = field.map ? field : old;
  const [keyField, valueField] = [entry.fieldsById[1], entry.fieldsById[2]];
  const [keyFrom, keyTo] = field.map ? [keyField.type, keyTypeOf(field)] : [keyTypeOf(old), keyField.type];
  if (keyFrom !== keyTo) {
    const c = scalarChange(keyFrom, keyTo, `${where} key`);
    if (c.kind !== 'asIs' || c.change.lossy) {
      v.problems.push({ path: where, message: `map key ${c.change.message}` });
      return;
    }
  }
  if (field.map) {
    v.changes.push({ path: where, message: `repeated ${entry.name} read as a map: the same bytes; entries with the same key keep the last one`, lossy: true });
    compareValues(mapField, valueField, where, v);
  } else {
    v.changes.push({ path: where, message: `map read as repeated ${entry.name}: the same bytes` });
    compareValues(valueField, mapField, where, v);
  }
}

/** The value types of two fields (or of a map's values), collecting changes and problems. */
function compareValues(field: Field, old: Field, where: string, v: Verdict): void {
  const from = kindOf(old);
  const to = kindOf(field);
  if (from === 'message' || to === 'message') {
    if (from !== to) v.problems.push({ path: where, message: `${old.type} to ${field.type}: a message and a scalar do not read each other` });
    else walk(field.resolvedType as Type, old.resolvedType as Type, v);
    return;
  }
  if (from === 'enum' && to === 'enum') return compareEnums(field.resolvedType as protobuf.Enum, old.resolvedType as protobuf.Enum, where, v);
  if (from === to) return;
  const c = scalarChange(from, to, where);
  if (c.kind === 'incompatible') return void v.problems.push(c.change);
  if (to === 'enum' && isClosed(field.resolvedType as protobuf.Enum)) c.change.message += `; a stored number that ${field.resolvedType!.name} does not define fails to read (closed enum)`;
  v.changes.push(c.change);
  if (c.kind === 'migrate') v.migrate = true;
}

/**
 * Enum values match by number. An open enum reads a number it no longer names as the number; a
 * closed (proto2) enum would treat it as an unknown field (guide, enum behaviour), hiding the value,
 * so a closed enum that lost a number is refused.
 */
function compareEnums(next: protobuf.Enum, previous: protobuf.Enum, where: string, v: Verdict): void {
  const lost: string[] = [];
  for (const [n, name] of Object.entries(previous.valuesById)) {
    const now = next.valuesById[Number(n)];
    if (now === undefined) lost.push(`${name} (${n})`);
    else if (now !== name) v.changes.push({ path: where, message: `enum value ${n} renamed from ${name} to ${now}` });
  }
  if (!lost.length) return;
  if (isClosed(next)) v.problems.push({ path: where, message: `the closed enum ${next.name} no longer defines ${lost.join(', ')}; protobuf would drop such stored values into unknown fields: keep the numbers (or make the enum open)` });
  else v.changes.push({ path: where, message: `${next.name} no longer names ${lost.join(', ')}; stored values read as their numbers` });
}

const sorted = new WeakMap<Type, Field[]>();
/** The fields in field-number order, the order every implementation writes them in. */
function byNumber(type: Type): Field[] {
  let fields = sorted.get(type);
  if (!fields) sorted.set(type, (fields = [...type.fieldsArray].sort((a, b) => a.id - b.id)));
  return fields;
}

/** Converts a value of the stored type into the new type's shape, by field number. */
export function convertValue(next: Type, previous: Type, value: Record<string, unknown>): Record<string, unknown> {
  // Fields the stored message lacks read as their defaults, as decoding would give them.
  const out: Record<string, unknown> = defaults(next);
  for (const field of byNumber(next)) {
    const old = previous.fieldsById[field.id];
    if (!old || value[old.name] === undefined || value[old.name] === null) continue;
    if (field.partOf && !hasPresence(old) && gathers(field.partOf, previous) && sameScalar(value[old.name], defaults(previous)[old.name])) continue;
    const v = convertField(field, old, value[old.name], defaults(previous)[old.name]);
    if (v === undefined) continue;
    // A oneof keeps one member: the highest field number set, the last one on the wire.
    if (field.partOf) clearOthers(out, field);
    out[field.name] = v;
  }
  return out;
}

function convertField(field: Field, old: Field, v: unknown, oldDefault: unknown): unknown {
  const one = (e: unknown) => convertScalar(field, old, e);
  if (field.map && old.map) return mapOf(entriesOf(v).map(([k, e]) => [convertKey(keyTypeOf(field), k), one(e)]));
  if (field.map) {
    const [keyField, valueField] = [(old.resolvedType as Type).fieldsById[1], (old.resolvedType as Type).fieldsById[2]];
    return mapOf((v as Record<string, unknown>[]).map((e) => [convertKey(keyTypeOf(field), e[keyField.name]), convertScalar(field, valueField, e[valueField.name])]));
  }
  if (old.map) {
    const entry = field.resolvedType as Type;
    const [keyField, valueField] = [entry.fieldsById[1], entry.fieldsById[2]];
    return entriesOf(v).map(([k, e]) => ({ ...defaults(entry), [keyField.name]: convertKey(keyField.type, k), [valueField.name]: convertScalar(valueField, old, e) }));
  }
  // A singular value equal to its default was not on the wire (no presence): no element, as a parser reads it.
  if (field.repeated && !old.repeated) return sameScalar(v, oldDefault) ? [] : [one(v)];
  if (!field.repeated && old.repeated) {
    const list = v as unknown[];
    if (!list.length) return undefined;
    if (old.resolvedType instanceof protobuf.Type) return one(list.reduce((a, b) => mergeMessage(old.resolvedType as Type, a as Record<string, unknown>, b as Record<string, unknown>)));
    return one(list[list.length - 1]);
  }
  return field.repeated ? (v as unknown[]).map(one) : one(v);
}

/** Protobuf's merge of two messages of one type: set scalars of `b` override, lists concatenate, maps and messages merge. */
function mergeMessage(type: Type, a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  const zero = defaults(type);
  for (const field of type.fieldsArray) {
    const x = b[field.name];
    if (x === undefined || x === null) continue;
    if (field.map) out[field.name] = mapOf([...entriesOf(a[field.name]), ...entriesOf(x)]);
    else if (field.repeated) out[field.name] = [...((a[field.name] as unknown[]) ?? []), ...(x as unknown[])];
    else if (field.resolvedType instanceof protobuf.Type && a[field.name]) out[field.name] = mergeMessage(field.resolvedType, a[field.name] as Record<string, unknown>, x as Record<string, unknown>);
    else if (field.partOf || !sameScalar(x, zero[field.name])) {
      // Without field presence a value equal to the default was not on the wire, so it does not override.
      if (field.partOf) clearOthers(out, field);
      out[field.name] = x;
    }
  }
  return out;
}

/** Unsets the other members of the oneof `field` belongs to (null, as decoding gives an unset member). */
function clearOthers(value: Record<string, unknown>, field: Field): void {
  for (const n of field.partOf!.oneof) if (n !== field.name) value[n] = null;
}

const sameScalar = (x: unknown, y: unknown) => x === y || (x instanceof Uint8Array && y instanceof Uint8Array && x.length === 0 && y.length === 0);

/** A map value's entries (the decoder gives a `Map` with typed keys). */
function entriesOf(v: unknown): [unknown, unknown][] {
  return [...(v as Map<unknown, unknown>)];
}

/** A map value from entries, as the decoder produces it: a `Map`, later entries win. */
function mapOf(entries: [unknown, unknown][]): Map<unknown, unknown> {
  return new Map(entries);
}

/** A map key as the new key type holds it (an int64 key is a bigint, a bool key a boolean). */
function convertKey(type: string, k: unknown): unknown {
  if (isLong(type)) return BigInt(k as number | bigint | boolean as number);
  if (type === 'bool') return Boolean(k);
  return typeof k === 'bigint' || typeof k === 'boolean' ? Number(k) : k;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function convertScalar(field: Field, old: Field, v: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Type) return convertValue(field.resolvedType, old.resolvedType as Type, v as Record<string, unknown>);
  if (old.resolvedType instanceof protobuf.Enum && typeof v === 'string') v = old.resolvedType.values[v];
  if (field.resolvedType instanceof protobuf.Enum) return enumValue(field.resolvedType, Number(v));
  if (isLong(field.type)) return BigInt(v as number | bigint | boolean as number);
  if (field.type === 'bool') return Boolean(v);
  if (field.type === 'string' && v instanceof Uint8Array) {
    try {
      return strictUtf8.decode(v);
    } catch {
      throw new RangeError(`${old.name}: stored bytes are not valid UTF-8, so they cannot be read as a string; give the state a \`migrate\` converter that decides what to keep`);
    }
  }
  if (field.type === 'bytes' && typeof v === 'string') return new Uint8Array(Buffer.from(v, 'utf8'));
  if (typeof v === 'bigint') return Number(v);
  return v;
}
