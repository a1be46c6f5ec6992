/**
 * The Avro binary encoding, compiled once per avsc type into a codec that reads and writes
 * stateshift's value model straight from and into `DataInput` / `DataOutput`: records as plain
 * objects, maps as `Map`, longs as bigint, bytes and fixed as `Uint8Array`, enums by symbol name,
 * unions unwrapped (`null` for the null branch). avsc parses, fingerprints and checks schemas;
 * logical types implemented in `options.logicalTypes` are delegated to it, the others hold the
 * values of their underlying type.
 *
 * Writes name the place of a wrong value (`Order.items[0].qty`) without building a path per
 * value: a record or array remembers only which field or index it is at, and prefixes it when an
 * error passes through. Reads count their nesting (`DataInput.enter`) and refuse a block count the
 * remaining input cannot hold.
 */
import { DataInput, DecodeError, describeValue, EncodeError, isRecordValue, prefixEncodeError as nest, type DataOutput } from '@stateshift/core';
import { valueType, type AvroType } from './types.js';

export interface AvroCodec {
  write(value: unknown, out: DataOutput): void;
  read(input: DataInput): unknown;
  /**
   * Whether a value has this type's shape (shallowly; a record: a plain object with no field it does
   * not declare): picks the branch of a union on write.
   */
  accepts(value: unknown): boolean;
  /** The least bytes one value takes. */
  minBytes: number;
}

interface Field {
  name: string;
  aliases: string[];
  type: AvroType;
  defaultValue(): unknown;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;

const typeName = (type: AvroType): string => (type as unknown as { typeName: string }).typeName;
const nameOf = (type: AvroType): string | undefined => (type as { name?: string }).name;
const unqualified = (name: string | undefined) => (name ?? '').split('.').pop()!;

/** The kind of a type as the codec sees it. */
export function kindOf(type: AvroType): string {
  const name = typeName(type);
  if (name === 'abstract:long') return 'long';
  if (name.startsWith('union')) return 'union';
  if (name.startsWith('logical:')) return 'logical';
  if (name === 'error') return 'record';
  return name;
}

const fields = (type: AvroType) => (type as unknown as { fields: Field[] }).fields;
const symbolsOf = (type: AvroType) => (type as unknown as { symbols: string[] }).symbols;
const branchesOf = (type: AvroType) => (type as unknown as { types: AvroType[] }).types;
const itemsOf = (type: AvroType) => (type as unknown as { itemsType: AvroType }).itemsType;
const valuesOf = (type: AvroType) => (type as unknown as { valuesType: AvroType }).valuesType;
const sizeOf = (type: AvroType) => (type as unknown as { size: number }).size;

function wrong(expected: string, value: unknown): EncodeError {
  return new EncodeError(`expected ${expected}, got ${describeValue(value)}`);
}


/** A length or block count read as a zigzag long that must be non-negative and fit what is left. */
function readCount(input: DataInput, minBytes: number, what: string): number {
  const at = input.offset;
  const n = input.readVarInt();
  if (n < 0) throw new DecodeError(`negative ${what} ${n}`, at);
  return input.checkCount(n, minBytes, what, at);
}

/** The items of one array or map block: a count, and when negative, a byte size to skip over. */
function readBlockCount(input: DataInput, minBytes: number, what: string): number {
  const at = input.offset;
  let n = input.readVarInt();
  if (n < 0) {
    n = -n;
    input.readVarInt();
  }
  return input.checkCount(n, minBytes, what, at);
}

const codecs = new WeakMap<AvroType, AvroCodec>();

/** The codec of a type, compiled once and shared (recursive types refer to themselves). */
export function codecOf(type: AvroType): AvroCodec {
  let codec = codecs.get(type);
  if (!codec) {
    codec = compile(valueType(type));
    codecs.set(type, codec);
  }
  return codec;
}

function compile(type: AvroType): AvroCodec {
  switch (kindOf(type)) {
    case 'null':
      return {
        minBytes: 0,
        accepts: (v) => v === null,
        write: (v) => {
          if (v !== null) throw wrong('null', v);
        },
        read: () => null,
      };
    case 'boolean':
      return {
        minBytes: 1,
        accepts: (v) => typeof v === 'boolean',
        write: (v, out) => {
          if (typeof v !== 'boolean') throw wrong('a boolean', v);
          out.writeUint8(v ? 1 : 0);
        },
        read: (input) => input.readBoolean(),
      };
    case 'int': {
      const accepts = (v: unknown) => typeof v === 'number' && (v | 0) === v;
      return {
        minBytes: 1,
        accepts,
        write: (v, out) => {
          if (typeof v !== 'number' || (v | 0) !== v) throw wrong('an integer in the int range', v);
          out.writeVarUint32(((v << 1) ^ (v >> 31)) >>> 0);
        },
        read: (input) => {
          const at = input.offset;
          const v = input.readVarInt();
          if (v < INT32_MIN || v > INT32_MAX) throw new DecodeError(`int out of range: ${v}`, at);
          return v;
        },
      };
    }
    case 'long': {
      const accepts = (v: unknown) => typeof v === 'bigint' && v >= LONG_MIN && v <= LONG_MAX;
      return {
        minBytes: 1,
        accepts,
        write: (v, out) => {
          if (typeof v === 'bigint') {
            const n = Number(v);
            // Below 2^52 in magnitude (exact as a number): the number path, no bigint comparisons.
            if (n > -4503599627370496 && n < 4503599627370496) return out.writeVarInt(n);
          }
          if (!accepts(v)) throw wrong('a bigint in the long range', v);
          out.writeVarInt64(v as bigint);
        },
        read: (input) => input.readVarInt64(),
      };
    }
    case 'float':
    case 'double': {
      const double = kindOf(type) === 'double';
      return {
        minBytes: double ? 8 : 4,
        accepts: (v) => typeof v === 'number',
        write: (v, out) => {
          if (typeof v !== 'number') throw wrong('a number', v);
          if (double) out.writeFloat64LE(v);
          else out.writeFloat32LE(v);
        },
        read: (input) => (double ? input.readFloat64LE() : input.readFloat32LE()),
      };
    }
    case 'string':
      return {
        minBytes: 1,
        accepts: (v) => typeof v === 'string',
        write: (v, out) => {
          if (typeof v !== 'string') throw wrong('a string', v);
          out.writeLengthAndUtf8(v, true);
        },
        read: (input) => input.readUtf8(readCount(input, 1, 'string length')),
      };
    case 'bytes':
      return {
        minBytes: 1,
        accepts: (v) => v instanceof Uint8Array,
        write: (v, out) => {
          if (!(v instanceof Uint8Array)) throw wrong('a Uint8Array', v);
          out.writeVarInt(v.length);
          out.writeRaw(v);
        },
        read: (input) => input.readCopy(readCount(input, 1, 'bytes length')),
      };
    case 'fixed': {
      const size = sizeOf(type);
      const accepts = (v: unknown) => v instanceof Uint8Array && v.length === size;
      return {
        minBytes: size,
        accepts,
        write: (v, out) => {
          if (!accepts(v)) throw wrong(`a Uint8Array of ${size} bytes (fixed ${unqualified(nameOf(type))})`, v);
          out.writeRaw(v as Uint8Array);
        },
        read: (input) => input.readCopy(size),
      };
    }
    case 'enum': {
      const symbols = symbolsOf(type);
      const index = new Map(symbols.map((s, i) => [s, i]));
      return {
        minBytes: 1,
        accepts: (v) => typeof v === 'string' && index.has(v),
        write: (v, out) => {
          const i = typeof v === 'string' ? index.get(v) : undefined;
          if (i === undefined) throw wrong(`a symbol of enum ${unqualified(nameOf(type))} (${symbols.join(', ')})`, v);
          out.writeVarInt(i);
        },
        read: (input) => {
          const at = input.offset;
          const i = input.readVarInt();
          if (!(i >= 0 && i < symbols.length)) throw new DecodeError(`enum ${unqualified(nameOf(type))} has no symbol at index ${i}`, at);
          return symbols[i];
        },
      };
    }
    case 'array':
      return arrayCodec(type);
    case 'map':
      return mapCodec(type);
    case 'union':
      return unionCodec(type);
    case 'record':
      return recordCodec(type);
    default:
      return logicalCodec(type);
  }
}

function arrayCodec(type: AvroType): AvroCodec {
  // Child codecs are looked up on first use: a recursive type may not be compiled yet.
  let items: AvroCodec | undefined;
  const codec: AvroCodec = {
    minBytes: 1,
    accepts: (v) => Array.isArray(v),
    write: (v, out) => {
      if (!Array.isArray(v)) throw wrong('an array', v);
      const item = (items ??= codecOf(itemsOf(type)));
      const n = v.length;
      if (n) {
        out.writeVarInt(n);
        let i = 0;
        try {
          for (; i < n; i++) item.write(v[i], out);
        } catch (error) {
          throw nest(error, `[${i}]`);
        }
      }
      out.writeUint8(0);
    },
    read: (input) => {
      const item = (items ??= codecOf(itemsOf(type)));
      input.enter();
      const list: unknown[] = [];
      for (let n = readBlockCount(input, item.minBytes, 'array block'); n; n = readBlockCount(input, item.minBytes, 'array block')) {
        for (let i = 0; i < n; i++) list.push(item.read(input));
      }
      input.leave();
      return list;
    },
  };
  return codec;
}

function mapCodec(type: AvroType): AvroCodec {
  let values: AvroCodec | undefined;
  return {
    minBytes: 1,
    accepts: (v) => v instanceof Map,
    write: (v, out) => {
      if (!(v instanceof Map)) throw wrong('a Map with string keys', v);
      const value = (values ??= codecOf(valuesOf(type)));
      if (v.size) {
        out.writeVarInt(v.size);
        let where = '{key}';
        try {
          for (const [k, e] of v) {
            where = '{key}';
            if (typeof k !== 'string') throw wrong('a string key', k);
            out.writeLengthAndUtf8(k, true);
            where = '{value}';
            value.write(e, out);
          }
        } catch (error) {
          throw nest(error, where);
        }
      }
      out.writeUint8(0);
    },
    read: (input) => {
      const value = (values ??= codecOf(valuesOf(type)));
      input.enter();
      const map = new Map<string, unknown>();
      for (let n = readBlockCount(input, 1 + value.minBytes, 'map block'); n; n = readBlockCount(input, 1 + value.minBytes, 'map block')) {
        for (let i = 0; i < n; i++) {
          const k = input.readUtf8(readCount(input, 0, 'string length'));
          map.set(k, value.read(input));
        }
      }
      input.leave();
      return map;
    },
  };
}

function unionCodec(type: AvroType): AvroCodec {
  const branches = branchesOf(type);
  const nullIndex = branches.findIndex((b) => kindOf(b) === 'null');
  const names = () => branches.map((b) => unqualified(nameOf(b)) || kindOf(b)).join(', ');
  let codecs: AvroCodec[] | undefined;
  const nullable = nullIndex >= 0 && branches.length === 2;
  const floatIndex = branches.findIndex((b) => kindOf(valueType(b)) === 'float');
  const doubleIndex = branches.findIndex((b) => kindOf(valueType(b)) === 'double');
  const recordIndex = branches.findIndex((b) => kindOf(valueType(b)) === 'record');
  return {
    minBytes: 1,
    accepts: () => true,
    write: (v, out) => {
      const all = (codecs ??= branches.map(codecOf));
      if (nullable) {
        // The common optional field: null, or the other branch (whose own check reports a wrong value).
        const i = v === null ? nullIndex : 1 - nullIndex;
        out.writeUint8(i * 2);
        all[i].write(v, out);
        return;
      }
      let i = v === null ? nullIndex : all.findIndex((c, j) => j !== nullIndex && c.accepts(v));
      // A number a float branch would round goes into a double branch if the union has one.
      if (i === floatIndex && doubleIndex >= 0 && Math.fround(v as number) !== v) i = doubleIndex;
      if (i < 0) {
        // No branch has the value's shape: the closest branch reports its own error. An object with
        // a field no record branch declares: the first record branch, naming the field.
        if (recordIndex >= 0 && isRecordValue(v)) i = recordIndex;
        else if (all.length === 2 && nullIndex >= 0) i = 1 - nullIndex;
        else throw wrong(`a value of one of the union branches (${names()})`, v);
      }
      out.writeVarInt(i);
      all[i].write(v, out);
    },
    read: (input) => {
      const at = input.offset;
      const i = input.readVarInt();
      if (!(i >= 0 && i < branches.length)) throw new DecodeError(`union has no branch ${i}`, at);
      return (codecs ??= branches.map(codecOf))[i].read(input);
    },
  };
}

function recordCodec(type: AvroType): AvroCodec {
  const list = fields(type);
  const names = list.map((f) => f.name);
  const codec: AvroCodec = {
    minBytes: 0,
    accepts: isRecordValue,
    write: () => undefined,
    read: () => undefined,
  };
  // Placed in the cache before the fields are compiled, so a recursive field finds it.
  codecs.set(type, codec);
  const parts = list.map((f) => codecOf(f.type));
  codec.minBytes = parts.reduce((sum, p) => sum + (p === codec ? 0 : p.minBytes), 0);
  const key = (name: string) => JSON.stringify(name);
  // An own key the record does not declare (its value not undefined) would be lost: write refuses it,
  // accepts says no (so a union picks a branch that declares it). A for-in with a switch on the
  // declared names costs no lookups; inherited keys are looked at only on the rare undeclared path.
  const declared = names.length ? `${names.map((n) => `case ${key(n)}:`).join(' ')} break;` : ''; // a record may have no fields
  const record = `record ${unqualified(nameOf(type))}`;
  const unknown = (v: Record<string, unknown>, k: string): void => {
    if (!Object.hasOwn(v, k)) return;
    throw new EncodeError(
      `${record} has no field "${k}"; its fields are ${names.join(', ')}. Declare "${k}" in the Avro schema or remove it from the value before update`,
      k,
    );
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  codec.accepts = new Function(
    'isRecord',
    `return function accepts(v) {\nif (!isRecord(v)) return false;\nfor (const k in v) switch (k) { ${declared} default: if (v[k] !== undefined && Object.hasOwn(v, k)) return false; }\nreturn true;\n}`,
  )(isRecordValue) as AvroCodec['accepts'];
  // Straight-line code per record, as avsc generates: one object literal, fields in order.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  codec.read = new Function('P', `return function read(input) {\ninput.enter();\nconst o = {${names.map((n, i) => `${key(n)}: P[${i}].read(input)`).join(', ')}};\ninput.leave();\nreturn o;\n}`)(parts) as AvroCodec['read'];
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const write = new Function(
    'P',
    'N',
    'isRecord',
    'refuse',
    'nest',
    'unknown',
    `return function write(v, out) {\nif (!isRecord(v)) refuse(v);\nfor (const k in v) switch (k) { ${declared} default: if (v[k] !== undefined) unknown(v, k); }\nlet i = 0;\ntry {\n${names.map((n, i) => `i = ${i}; P[${i}].write(v[${key(n)}], out);`).join('\n')}\n} catch (error) {\nthrow nest(error, N[i]);\n}\n}`,
  )(parts, names, isRecordValue, (v: unknown) => {
    throw wrong(`a plain object with the fields of ${record}`, v);
  }, nest, unknown) as AvroCodec['write'];
  codec.write = write;
  return codec;
}

function logicalCodec(type: AvroType): AvroCodec {
  // A logical type implemented in options.logicalTypes: avsc encodes it.
  return {
    minBytes: 0,
    accepts: (v) => type.isValid(v),
    write: (v, out) => {
      if (!type.isValid(v)) throw wrong(`a valid ${typeName(type).slice('logical:'.length)}`, v);
      out.writeRaw(type.toBuffer(v));
    },
    read: (input) => {
      const at = input.offset;
      const bytes = input.bytes;
      const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let result: { value: unknown; offset: number };
      try {
        result = type.decode(buffer, at);
      } catch (error) {
        throw new DecodeError(`invalid ${typeName(type)} datum: ${(error as Error).message}`, at, { cause: error });
      }
      if (result.offset < 0 || result.offset > at + input.remaining) throw new DecodeError(`truncated ${typeName(type)} datum`, at);
      input.skip(result.offset - at);
      return result.value;
    },
  };
}

/**
 * A value avsc gives (a field default): converted to stateshift's model (plain objects, `Map`,
 * `Uint8Array`), by the type it belongs to.
 */
export function fromAvsc(declared: AvroType, value: unknown): unknown {
  const type = valueType(declared);
  switch (kindOf(type)) {
    case 'record':
      return Object.fromEntries(fields(type).map((f) => [f.name, fromAvsc(f.type, (value as Record<string, unknown>)[f.name])]));
    case 'map':
      return new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fromAvsc(valuesOf(type), v)]));
    case 'array':
      return (value as unknown[]).map((v) => fromAvsc(itemsOf(type), v));
    case 'bytes':
    case 'fixed':
      return Uint8Array.from(value as Uint8Array);
    case 'union': {
      if (value === null) return null;
      const branch = branchesOf(type).find((b) => kindOf(b) !== 'null' && b.isValid(value)) ?? branchesOf(type).find((b) => kindOf(b) !== 'null')!;
      return fromAvsc(branch, value);
    }
    default:
      return value;
  }
}

/** A type's zero value (a field of this type added to a pojo): defaults of records, else empty. */
export function zeroOf(declared: AvroType): unknown {
  const type = valueType(declared);
  switch (kindOf(type)) {
    case 'null':
      return null;
    case 'boolean':
      return false;
    case 'int':
    case 'float':
    case 'double':
      return 0;
    case 'long':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'fixed':
      return new Uint8Array(sizeOf(type));
    case 'array':
      return [];
    case 'map':
      return new Map();
    case 'enum':
      return symbolsOf(type)[0];
    case 'record':
      return Object.fromEntries(fields(type).map((f) => [f.name, f.defaultValue() === undefined ? zeroOf(f.type) : fromAvsc(f.type, f.defaultValue())]));
    case 'union':
      return zeroOf(branchesOf(type)[0]);
    default:
      return undefined;
  }
}

export { branchesOf, fields, itemsOf, nameOf, readCount, readBlockCount, symbolsOf, unqualified, valuesOf, type Field };
