/**
 * Per-type encoders and decoders generated as JavaScript (as protobufjs's own codegen does), so the
 * hot path is straight-line code with constant tags: plain objects in and out, bigint 64-bit
 * integers, enum names. Maps and rare cases call the shared helpers in codec.ts.
 */
import protobuf from 'protobufjs';
import { DecodeError, EncodeError } from '@stateshift/core';
import { decodeMapEntry, defaults, describe, encodeMap, enumValue, hasPresence, LONG, PACKABLE, planOf, RANGE, readScalar, writeScalar, type Reader, type Type, type Writer } from './codec.js';

interface Compiled {
  encode(w: Writer, value: unknown, path: string): void;
  /** Decodes into `into` when given: a singular message field seen again merges, as protobuf parsers do. */
  decode(r: Reader, end: number, into?: Record<string, unknown> | null): Record<string, unknown>;
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

/** Varint 64-bit reads straight from the reader's buffer: number arithmetic below 2^49. */
function readVarint64(r: Reader): bigint {
  const buf = (r as unknown as { buf: Uint8Array }).buf;
  let pos = r.pos;
  let b = buf[pos++];
  let n = b & 0x7f;
  let scale = 128;
  while (b & 0x80 && scale < 2 ** 49) {
    b = buf[pos++];
    n += (b & 0x7f) * scale;
    scale *= 128;
  }
  if (!(b & 0x80)) {
    r.pos = pos;
    if (pos > r.len) throw new RangeError('index out of range');
    return BigInt(n);
  }
  let big = BigInt(n);
  let shift = 49n;
  do {
    b = buf[pos++];
    big |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80 && shift < 70n);
  r.pos = pos;
  if (pos > r.len) throw new RangeError('index out of range');
  return BigInt.asUintN(64, big);
}

const helpers = {
  int64: (r: Reader) => BigInt.asIntN(64, readVarint64(r)),
  uint64: (r: Reader) => readVarint64(r),
  sint64: (r: Reader) => {
    const u = readVarint64(r);
    return (u >> 1n) ^ -(u & 1n);
  },
  fixed64: (r: Reader, f: protobuf.Field) => readScalar(r, f, 'fixed64'),
  sfixed64: (r: Reader, f: protobuf.Field) => readScalar(r, f, 'sfixed64'),
  enumName: enumValue,
  bad: (v: unknown, what: string, where: string) => {
    throw new EncodeError(`expected ${what}, got ${describe(v)}`, where);
  },
  missing: (where: string) => {
    throw new EncodeError('required field is missing', where);
  },
  unknown: (type: Type, key: string, path: string) => {
    throw new EncodeError(`${type.name} has no field "${key}"; its fields are ${type.fieldsArray.map((f) => f.name).join(', ')}`, path);
  },
  scalar: writeScalar,
  bits: (v: bigint) => ({ low: Number(BigInt.asUintN(32, v)) | 0, high: Number(BigInt.asUintN(32, v >> 32n)) | 0 }),
  encodeMap: (w: Writer, p: ReturnType<typeof planOf>['fields'][number], v: unknown, where: string) =>
    encodeMap(w, p, v, where, (w2, type, value, path) => compiledOf(type).encode(w2, value, path)),
  decodeMap: (r: Reader, p: ReturnType<typeof planOf>['fields'][number], target: Record<string, unknown>) =>
    decodeMapEntry(r, p, target, (r2, type, end) => compiledOf(type).decode(r2, end)),
  defaults,
  compiledOf,
};

const INLINE_READ: Record<string, string> = { int32: 'r.int32()', uint32: 'r.uint32()', sint32: 'r.sint32()', fixed32: 'r.fixed32()', sfixed32: 'r.sfixed32()', double: 'r.double()', float: 'r.float()', bool: 'r.bool()', string: 'r.string()', bytes: 'new Uint8Array(r.bytes())' };

/** The decoder's starting value as an object literal: each field's default, fresh lists and maps. */
function defaultsLiteral(type: Type): string {
  const template = defaults(type);
  const parts = Object.entries(template).map(([name, v]) => {
    let code: string;
    if (typeof v === 'bigint') code = `${v}n`;
    else if (v instanceof Uint8Array) code = 'new Uint8Array(0)';
    else if (Array.isArray(v)) code = '[]';
    else if (v !== null && typeof v === 'object') code = '{}';
    else code = JSON.stringify(v);
    return `${JSON.stringify(name)}: ${code}`;
  });
  return `{ ${parts.join(', ')} }`;
}

/**
 * A condition (starting with &&) that skips a field without presence (proto3, not `optional`) at
 * its zero value: proto3 writers never put it on the wire, so reading such bytes and merging them
 * behaves as in every other implementation. Empty for fields with presence.
 */
function notZero(field: protobuf.Field): string {
  if (hasPresence(field) || field.repeated) return '';
  if (field.resolvedType instanceof protobuf.Enum) {
    const zero = field.resolvedType.valuesById[0];
    return ` && x !== 0${zero === undefined ? '' : ` && x !== ${JSON.stringify(zero)}`}`;
  }
  if (LONG.has(field.type)) return ' && x !== 0n';
  switch (field.type) {
    case 'bool':
      return ' && x !== false';
    case 'string':
      return " && x !== ''";
    case 'bytes':
      return ' && !(x instanceof Uint8Array && x.length === 0)';
    case 'double':
    case 'float':
      return ' && !Object.is(x, 0)';
    default:
      return ' && x !== 0';
  }
}

function compile(type: Type): Compiled {
  const plan = planOf(type);
  const F = plan.fields;
  const dec: string[] = [];
  const enc: string[] = [];
  const key = (name: string) => JSON.stringify(name);
  /** An expression that reads one value of field i. */
  const read = (i: number): string => {
    const f = F[i];
    if (f.message) return `H.compiledOf(F[${i}].message).decode(r, r.uint32() + r.pos)`;
    if (f.field.resolvedType instanceof protobuf.Enum) return `H.enumName(F[${i}].field.resolvedType, r.int32())`;
    if (LONG.has(f.field.type)) return `H.${f.field.type}(r, F[${i}].field)`;
    return INLINE_READ[f.field.type];
  };
  /** Statements that check and write one value `x` of field i, without its tag. */
  const write = (i: number, x: string, where: string): string => {
    const f = F[i];
    const t = f.field.type;
    if (f.message) return `w.fork(); H.compiledOf(F[${i}].message).encode(w, ${x}, ${where}); w.ldelim();`;
    if (LONG.has(t)) {
      const [min, max] = t === 'uint64' || t === 'fixed64' ? ['0n', `${(1n << 64n) - 1n}n`] : [`${-(1n << 63n)}n`, `${(1n << 63n) - 1n}n`];
      return `if (typeof ${x} !== 'bigint' || ${x} < ${min} || ${x} > ${max}) H.bad(${x}, 'a bigint for ${t}', ${where}); w.${t}(${x} >= -9007199254740991n && ${x} <= 9007199254740991n ? Number(${x}) : H.bits(${x}));`;
    }
    if (f.field.resolvedType) return `H.scalar(w, F[${i}].field, F[${i}].field.type, ${x}, ${where});`;
    switch (t) {
      case 'string':
        return `if (typeof ${x} !== 'string') H.bad(${x}, 'a string', ${where}); w.string(${x});`;
      case 'bool':
        return `if (typeof ${x} !== 'boolean') H.bad(${x}, 'a boolean', ${where}); w.bool(${x});`;
      case 'double':
      case 'float':
        return `if (typeof ${x} !== 'number') H.bad(${x}, 'a number', ${where}); w.${t}(${x});`;
      case 'bytes':
        return `if (!(${x} instanceof Uint8Array)) H.bad(${x}, 'a Uint8Array', ${where}); w.bytes(${x});`;
      default: {
        const [min, max] = RANGE[t];
        return `if (typeof ${x} !== 'number' || !Number.isInteger(${x}) || ${x} < ${min} || ${x} > ${max}) H.bad(${x}, 'an integer in the ${t} range', ${where}); w.${t}(${x});`;
      }
    }
  };

  dec.push(`const o = into || ${defaultsLiteral(type)};`, 'while (r.pos < end) {', 'const t = r.uint32();', 'switch (t) {');
  enc.push('for (const k in v) if (!N.has(k) && v[k] !== undefined) H.unknown(T, k, path);', 'let x;');
  F.forEach((f, i) => {
    const name = key(f.name);
    const tag = (f.id << 3) | f.wire;
    const where = `path + ${JSON.stringify(`.${f.name}`)}`;
    if (f.map) {
      dec.push(`case ${(f.id << 3) | 2}: H.decodeMap(r, F[${i}], o[${name}]); break;`);
      enc.push(`x = v[${name}]; if (x !== undefined && x !== null) H.encodeMap(w, F[${i}], x, ${where});`);
      return;
    }
    if (f.repeated) {
      if (!f.message && (PACKABLE.has(f.field.type) || f.field.resolvedType)) {
        dec.push(`case ${(f.id << 3) | 2}: { const e = r.uint32() + r.pos; const l = o[${name}]; while (r.pos < e) l.push(${read(i)}); break; }`);
      }
      if (!f.message && f.wire !== 2) dec.push(`case ${tag}: o[${name}].push(${read(i)}); break;`);
      else if (f.message || f.wire === 2) dec.push(`case ${(f.id << 3) | 2}: o[${name}].push(${read(i)}); break;`);
      const item = `${where} + '[' + j + ']'`;
      enc.push(
        `x = v[${name}]; if (x !== undefined && x !== null) {`,
        `if (!Array.isArray(x)) H.bad(x, 'an array', ${where});`,
        f.packed
          ? `if (x.length) { w.uint32(${(f.id << 3) | 2}).fork(); for (let j = 0; j < x.length; j++) { const e = x[j]; ${write(i, 'e', item)} } w.ldelim(); }`
          : `for (let j = 0; j < x.length; j++) { const e = x[j]; w.uint32(${tag}); ${write(i, 'e', item)} }`,
        '}',
      );
      return;
    }
    // A oneof member read clears the other members: the last one on the wire wins, as in protobuf.
    const siblings = f.field.partOf ? f.field.partOf.oneof.filter((n) => n !== f.name) : [];
    const clear = siblings.map((n) => `delete o[${key(n)}];`).join(' ');
    const value = f.message ? `H.compiledOf(F[${i}].message).decode(r, r.uint32() + r.pos, o[${name}])` : read(i);
    dec.push(`case ${tag}: ${clear} o[${name}] = ${value}; break;`);
    enc.push(`x = v[${name}]; if (x !== undefined && x !== null${notZero(f.field)}) { w.uint32(${tag}); ${write(i, 'x', where)} }${f.required ? ` else H.missing(${where});` : ''}`);
  });
  dec.push('default: r.skipType(t & 7);', '}', '}', 'return o;');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const decode = new Function('H', 'T', 'F', `return function decode(r, end, into) {\n${dec.join('\n')}\n}`)(helpers, type, F) as Compiled['decode'];
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const encode = new Function('H', 'T', 'F', 'N', `return function encode(w, v, path) {\n${enc.join('\n')}\n}`)(helpers, type, F, plan.names) as Compiled['encode'];
  return {
    decode,
    encode(w, value, path) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EncodeError(`expected an object for ${type.name}, got ${describe(value)}`, path);
      encode(w, value, path);
    },
  };
}

export function encode(type: Type, value: unknown): Uint8Array {
  const w = protobuf.Writer.create();
  compiledOf(type).encode(w, value, type.name);
  return w.finish();
}

export function decode(type: Type, bytes: Uint8Array): Record<string, unknown> {
  const r = protobuf.Reader.create(bytes);
  const value = compiledOf(type).decode(r, r.len);
  if (r.pos > r.len) throw new DecodeError(`a ${type.name} message runs past its end`, r.pos);
  return value;
}
