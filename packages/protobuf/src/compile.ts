/**
 * Per-type encoders and decoders generated as JavaScript (as protobufjs's own codegen does), working
 * straight on stateshift's `DataOutput` and `DataInput`: no protobufjs Writer, Reader or Buffer per
 * value. Values follow stateshift's value model: plain objects, bigint 64-bit integers, enum names,
 * `Uint8Array` bytes, `Map` with typed keys for map fields, `null` for unset messages and oneofs.
 *
 * Nested messages and packed fields are written with a one-byte length placeholder that moves
 * when the length needs more (`DataOutput.beginLengthPrefixed`). Reads count nesting
 * (`DataInput.enter`) and check every length against the input.
 */
import protobuf from 'protobufjs';
import { DecodeError, describeValue, EncodeError, isRecordValue, prefixEncodeError as nest, type DataInput, type DataOutput } from '@stateshift/core';
import { defaults, enumValue, hasPresence, isClosed, LONG, PACKABLE, planOf, RANGE, type FieldPlan, type Type } from './codec.js';

interface Compiled {
  encode(out: DataOutput, value: unknown): void;
  /**
   * Reads fields until `end` (an offset in the input), into `into` when given: a singular message
   * field seen again merges into the value read before, as protobuf parsers do.
   */
  decode(input: DataInput, end: number, into?: Record<string, unknown> | null): Record<string, unknown>;
}

const compiled = new WeakMap<Type, Compiled>();

export function compiledOf(type: Type): Compiled {
  let c = compiled.get(type);
  if (!c) {
    c = compile(type);
    compiled.set(type, c);
  }
  return c;
}


const WIRE_OF: Record<string, number> = { ...(protobuf.types.basic as Record<string, number>) };

/** Skips an unknown field's value by its wire type. */
function skip(input: DataInput, tag: number): void {
  const at = input.offset;
  switch (tag & 7) {
    case 0:
      input.readVarint32();
      return;
    case 1:
      input.skip(8);
      return;
    case 2:
      input.skip(input.readLength('a length-delimited field'));
      return;
    case 5:
      input.skip(4);
      return;
    case 3: {
      input.enter();
      for (;;) {
        const t = input.readVarint32() >>> 0;
        if ((t & 7) === 4) {
          if (t >>> 3 !== tag >>> 3) throw new DecodeError(`group of field ${tag >>> 3} ended by field ${t >>> 3}`, at);
          break;
        }
        skip(input, t);
      }
      input.leave();
      return;
    }
    default:
      throw new DecodeError(`invalid wire type ${tag & 7} (field ${tag >>> 3})`, at);
  }
}

function wrong(expected: string, v: unknown): EncodeError {
  return new EncodeError(`expected ${expected}, got ${describeValue(v)}`);
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Writes a varint of a signed int32 the protobuf way: negatives take ten bytes. */
function writeInt32(out: DataOutput, v: number): void {
  if (v >= 0) out.writeVarUint32(v);
  else out.writeVarUint64(BigInt.asUintN(64, BigInt(v)));
}

/** Checks and writes one scalar of `type` (no tag); `plan` gives enums. */
function scalarWriter(plan: FieldPlan, type: string): (out: DataOutput, v: unknown) => void {
  const e = plan.field.resolvedType;
  if (e instanceof protobuf.Enum && type === plan.field.type) {
    const values = e.values;
    const known = new Set(Object.values(values));
    const closed = isClosed(e);
    return (out, v) => {
      // Declared values by name; a number only for a value an open enum does not declare (read from newer data).
      const n = typeof v === 'string' ? values[v] : !closed && typeof v === 'number' && Number.isInteger(v) && !known.has(v) ? v : undefined;
      if (n === undefined) throw wrong(`a symbol of enum ${e.name} (${Object.keys(values).join(', ')})`, v);
      writeInt32(out, n);
    };
  }
  if (LONG.has(type)) {
    const unsigned = type === 'uint64' || type === 'fixed64';
    const [min, max] = unsigned ? [0n, U64_MAX] : [I64_MIN, I64_MAX];
    const check = (v: unknown): bigint => {
      if (typeof v !== 'bigint' || v < min || v > max) throw wrong(`a bigint in the ${type} range`, v);
      return v;
    };
    switch (type) {
      case 'sint64':
        return (out, v) => out.writeVarInt64(check(v));
      case 'fixed64':
      case 'sfixed64':
        return (out, v) => out.writeInt64LE(check(v));
      default:
        return (out, v) => {
          if (typeof v === 'bigint') {
            // Non-negative and below 2^52 (exact as a number): the number path, no bigint work.
            const n = Number(v);
            if (n >= 0 && n < 4503599627370496) return out.writeVarUint(n);
          }
          out.writeVarUint64(BigInt.asUintN(64, check(v)));
        };
    }
  }
  switch (type) {
    case 'double':
      return (out, v) => {
        if (typeof v !== 'number') throw wrong('a number', v);
        out.writeFloat64LE(v);
      };
    case 'float':
      return (out, v) => {
        if (typeof v !== 'number') throw wrong('a number', v);
        out.writeFloat32LE(v);
      };
    case 'bool':
      return (out, v) => {
        if (typeof v !== 'boolean') throw wrong('a boolean', v);
        out.writeUint8(v ? 1 : 0);
      };
    case 'string':
      return (out, v) => {
        if (typeof v !== 'string') throw wrong('a string', v);
        out.writeLengthAndUtf8(v, false);
      };
    case 'bytes':
      return (out, v) => {
        if (!(v instanceof Uint8Array)) throw wrong('a Uint8Array', v);
        out.writeBytes(v);
      };
    default: {
      const [min, max] = RANGE[type];
      const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
      switch (type) {
        case 'sint32':
          return (out, v) => {
            if (!ok(v)) throw wrong(`an integer in the ${type} range`, v);
            out.writeVarInt(v);
          };
        case 'fixed32':
        case 'sfixed32':
          return (out, v) => {
            if (!ok(v)) throw wrong(`an integer in the ${type} range`, v);
            out.writeInt32LE(v);
          };
        case 'uint32':
          return (out, v) => {
            if (!ok(v)) throw wrong(`an integer in the ${type} range`, v);
            out.writeVarUint32(v);
          };
        default:
          return (out, v) => {
            if (!ok(v)) throw wrong(`an integer in the ${type} range`, v);
            writeInt32(out, v);
          };
      }
    }
  }
}

/** A number the enum does not name: kept for an open enum, a DecodeError for a closed one. */
function unknownEnumValue(e: protobuf.Enum, n: number, at: number): string | number {
  try {
    return enumValue(e, n);
  } catch (error) {
    throw new DecodeError(`${(error as Error).message}; protobuf would move it to the unknown fields, which stateshift does not keep`, at, { cause: error });
  }
}

/** Reads one scalar of `type`. */
function scalarReader(plan: FieldPlan, type: string): (input: DataInput) => unknown {
  const e = plan.field.resolvedType;
  if (e instanceof protobuf.Enum && type === plan.field.type) {
    const names = e.valuesById;
    return (input) => {
      const at = input.offset;
      const n = input.readVarint32();
      return names[n] ?? unknownEnumValue(e, n, at);
    };
  }
  switch (type) {
    case 'int64':
      return (input) => input.readVarUint64AsInt64();
    case 'uint64':
      return (input) => input.readVarUint64();
    case 'sint64':
      return (input) => input.readVarInt64();
    case 'fixed64':
      return (input) => input.readUint64LE();
    case 'sfixed64':
      return (input) => input.readInt64LE();
    case 'int32':
      return (input) => input.readVarint32();
    case 'uint32':
      return (input) => input.readVarint32() >>> 0;
    case 'sint32':
      return (input) => {
        const u = input.readVarint32() >>> 0;
        return (u >>> 1) ^ -(u & 1);
      };
    case 'fixed32':
      return (input) => input.readUint32LE();
    case 'sfixed32':
      return (input) => input.readInt32LE();
    case 'bool':
      return (input) => input.readVarint32() !== 0;
    case 'double':
      return (input) => input.readFloat64LE();
    case 'float':
      return (input) => input.readFloat32LE();
    case 'string':
      return (input) => input.readUtf8(input.readLength('a string'));
    case 'bytes':
      return (input) => input.readCopy(input.readLength('bytes'));
    default:
      throw new TypeError(`unknown protobuf scalar ${type}`);
  }
}

/** The value of a map key as the model types it (an int64 key is a bigint). */
function keyDefault(type: string): unknown {
  return LONG.has(type) ? 0n : type === 'string' ? '' : type === 'bool' ? false : 0;
}

interface FieldCodec {
  plan: FieldPlan;
  write(out: DataOutput, v: unknown): void;
  /** Messages merge into `into`, the value read before (if any). */
  read(input: DataInput, into?: unknown): unknown;
  /** Map fields: key writer and reader. */
  writeKey?(out: DataOutput, v: unknown): void;
  readKey?(input: DataInput): unknown;
}

function fieldCodec(plan: FieldPlan): FieldCodec {
  const f = plan.field;
  if (plan.message) {
    const type = plan.message;
    // Compiled on first use (a message type may contain itself); its label made once.
    let nested: Compiled | undefined;
    const what = `a ${type.name} message`;
    return {
      plan,
      write: (out, v) => {
        const mark = out.beginLengthPrefixed();
        (nested ??= compiledOf(type)).encode(out, v);
        out.endLengthPrefixed(mark);
      },
      read: (input, into) => {
        const n = input.readLength(what);
        return (nested ??= compiledOf(type)).decode(input, input.offset + n, into as Record<string, unknown> | null | undefined);
      },
    };
  }
  const codec: FieldCodec = { plan, write: scalarWriter(plan, f.type), read: scalarReader(plan, f.type) };
  if (plan.map) {
    codec.writeKey = scalarWriter(plan, plan.keyType);
    codec.readKey = scalarReader(plan, plan.keyType);
  }
  return codec;
}

function writeMap(out: DataOutput, c: FieldCodec, v: unknown): void {
  if (!(v instanceof Map)) throw wrong(`a Map for map<${c.plan.keyType}, ${c.plan.field.type}>`, v);
  const tag = (c.plan.id << 3) | 2;
  const keyTag = (1 << 3) | WIRE_OF[c.plan.keyType];
  const valueTag = (2 << 3) | c.plan.wire;
  let where = '{key}';
  try {
    for (const [k, e] of v) {
      out.writeVarUint32(tag);
      const mark = out.beginLengthPrefixed();
      where = '{key}';
      out.writeVarUint32(keyTag);
      c.writeKey!(out, k);
      where = '{value}';
      out.writeVarUint32(valueTag);
      c.write(out, e);
      out.endLengthPrefixed(mark);
    }
  } catch (error) {
    throw nest(error, where);
  }
}

function readMapEntry(input: DataInput, c: FieldCodec, target: Map<unknown, unknown>): void {
  const n = input.readLength('a map entry');
  const end = input.offset + n;
  let k: unknown = keyDefault(c.plan.keyType);
  let e: unknown = c.plan.message ? defaults(c.plan.message) : defaults.scalar(c.plan.field);
  while (input.offset < end) {
    const t = input.readVarint32() >>> 0;
    if (t >>> 3 === 1 && (t & 7) === WIRE_OF[c.plan.keyType]) k = c.readKey!(input);
    else if (t >>> 3 === 2 && (t & 7) === c.plan.wire) e = c.read(input);
    else skip(input, t);
  }
  if (input.offset !== end) throw new DecodeError('a map entry runs past its end', input.offset);
  target.set(k, e);
}

/** The decoder's starting value as an object literal: each field's default, fresh lists and maps. */
function defaultsLiteral(type: Type): string {
  const template = defaults(type);
  const parts = Object.entries(template).map(([name, v]) => {
    let code: string;
    if (typeof v === 'bigint') code = `${v}n`;
    else if (v instanceof Uint8Array) code = 'new Uint8Array(0)';
    else if (Array.isArray(v)) code = '[]';
    else if (v instanceof Map) code = 'new Map()';
    else code = JSON.stringify(v);
    return `${JSON.stringify(name)}: ${code}`;
  });
  return `{ ${parts.join(', ')} }`;
}

/**
 * Proto3 fields without presence are not written at their default value (as protobuf's own
 * encoders do): the condition that skips it, else ''. -0 is written, so it reads back as -0.
 */
function implicitDefault(plan: FieldPlan, zero: unknown): string {
  if (hasPresence(plan.field) || plan.repeated || plan.map) return '';
  if (typeof zero === 'bigint') return ` && x !== ${zero}n`;
  if (typeof zero === 'number') return ` && (x !== ${zero} || 1 / x < 0)`;
  if (typeof zero === 'string' || typeof zero === 'boolean') return ` && x !== ${JSON.stringify(zero)}`;
  if (zero instanceof Uint8Array) return ' && !(x instanceof Uint8Array && x.length === 0)';
  return '';
}

const helpers = { skip, writeMap, readMapEntry, nest, wrong, DecodeError, EncodeError };

function compile(type: Type): Compiled {
  const plan = planOf(type);
  const C = plan.fields.map(fieldCodec);
  const key = (name: string) => JSON.stringify(name);
  const dec: string[] = [];
  const enc: string[] = [];

  const template = defaults(type);
  dec.push('input.enter();', `const o = into || ${defaultsLiteral(type)};`, 'while (input.offset < end) {', 'const t = input.readVarint32() >>> 0;', 'switch (t) {');
  // Keys the message does not declare are refused, not dropped (a switch on constants: no lookups).
  enc.push(`for (const k in v) switch (k) { ${plan.fields.map((f) => `case ${key(f.name)}: `).join('')}${plan.fields.length ? 'break; ' : ''}default: if (v[k] !== undefined) H.unknown(k); }`, 'let i = 0, x;', 'try {');
  C.forEach((c, i) => {
    const f = c.plan;
    const name = key(f.name);
    const tag = (f.id << 3) | f.wire;
    if (f.map) {
      dec.push(`case ${(f.id << 3) | 2}: H.readMapEntry(input, C[${i}], o[${name}]); break;`);
      enc.push(`i = ${i}; x = v[${name}]; if (x !== undefined && x !== null) H.writeMap(out, C[${i}], x);`);
      return;
    }
    if (f.repeated) {
      if (!f.message && (PACKABLE.has(f.field.type) || f.field.resolvedType)) {
        dec.push(`case ${(f.id << 3) | 2}: { const e = input.readLength('a packed field') + input.offset; const l = o[${name}]; input.enter(); while (input.offset < e) l.push(C[${i}].read(input)); input.leave(); if (input.offset !== e) throw new H.DecodeError('a packed field runs past its end', input.offset); break; }`);
      }
      if (f.wire !== 2) dec.push(`case ${tag}: o[${name}].push(C[${i}].read(input)); break;`);
      else dec.push(`case ${tag}: o[${name}].push(C[${i}].read(input)); break;`);
      enc.push(
        `i = ${i}; x = v[${name}]; if (x !== undefined && x !== null) {`,
        `if (!Array.isArray(x)) throw H.wrong('an array', x);`,
        'let j = 0;',
        'try {',
        f.packed
          ? `if (x.length) { out.writeVarUint32(${(f.id << 3) | 2}); const m = out.beginLengthPrefixed(); for (; j < x.length; j++) C[${i}].write(out, x[j]); out.endLengthPrefixed(m); }`
          : `for (; j < x.length; j++) { out.writeVarUint32(${tag}); C[${i}].write(out, x[j]); }`,
        `} catch (error) { throw H.nest(error, '[' + j + ']'); }`,
        '}',
      );
      return;
    }
    // A oneof member read unsets the other members: the last one on the wire wins, as in protobuf.
    const clear = f.field.partOf ? f.field.partOf.oneof.filter((n) => n !== f.name).map((n) => `o[${key(n)}] = null;`).join(' ') : '';
    dec.push(`case ${tag}: ${clear} o[${name}] = C[${i}].read(input${f.message ? `, o[${name}]` : ''}); break;`);
    enc.push(`i = ${i}; x = v[${name}]; if (x !== undefined && x !== null${implicitDefault(f, template[f.name])}) { out.writeVarUint32(${tag}); C[${i}].write(out, x); }${f.required ? ` else throw new H.EncodeError('required field is missing');` : ''}`);
  });
  // A oneof with two members set would lose one on read: refused.
  for (const oneof of type.oneofsArray) {
    const members = oneof.fieldsArray.map((m) => key(m.name));
    if (members.length > 1) {
      enc.push(`if (${members.map((m) => `(v[${m}] != null)`).join(' + ')} > 1) { i = -1; throw new H.EncodeError(${JSON.stringify(`oneof ${oneof.name} has more than one member set (${oneof.fieldsArray.map((m) => m.name).join(', ')}); set the others to null`)}); }`);
    }
  }
  enc.push('} catch (error) {', 'throw i < 0 ? error : H.nest(error, C[i].plan.name);', '}');
  dec.push('default: if (t >>> 3 === 0) throw new H.DecodeError("field number 0", input.offset); H.skip(input, t);', '}', '}', "if (input.offset !== end) throw new H.DecodeError('a message runs past its end', input.offset);", 'input.leave();', 'return o;');
  const unknown = (k: string) => {
    throw new EncodeError(`${type.name} has no field "${k}"; its fields are ${type.fieldsArray.map((f) => f.name).join(', ')}`);
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const decode = new Function('H', 'C', `return function decode(input, end, into) {\n${dec.join('\n')}\n}`)(helpers, C) as Compiled['decode'];
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const encode = new Function('H', 'C', `return function encode(out, v) {\n${enc.join('\n')}\n}`)({ ...helpers, unknown }, C) as Compiled['encode'];
  return {
    decode,
    encode(out, value) {
      if (!isRecordValue(value)) throw wrong(`a plain object with the fields of ${type.name}`, value);
      encode(out, value);
    },
  };
}

/** Writes a message with its varint length first (delimited framing). */
export function writeDelimited(type: Type, value: unknown, out: DataOutput, codec = compiledOf(type)): void {
  const mark = out.beginLengthPrefixed();
  try {
    codec.encode(out, value);
  } catch (error) {
    throw nest(error, type.name);
  }
  out.endLengthPrefixed(mark);
}

/** Reads a varint length, then a message of that length. */
export function readDelimited(type: Type, input: DataInput, codec = compiledOf(type), what = `a ${type.name} message`): Record<string, unknown> {
  const n = input.readLength(what);
  return codec.decode(input, input.offset + n);
}
