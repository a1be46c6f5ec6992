/**
 * A generic Thrift codec driven by the parsed IDL: structs read and written field by field in the
 * binary or the compact protocol, no generated code. Unknown fields (and fields whose wire type is
 * not the declared one) are skipped, as Thrift's own readers do.
 */
import { DataInput, DataOutput, DecodeError, describeValue, EncodeError, isRecordValue, prefixEncodeError as nest, utf8Length } from '@stateshift/core';
import { structOf, typeName, type ThriftModel, type ThriftStruct, type ThriftType } from './model.js';

export type ProtocolName = 'binary' | 'compact';

/** Thrift's type ids (the binary protocol's), used as the wire type of a value in both protocols. */
export const T = { STOP: 0, BOOL: 2, BYTE: 3, DOUBLE: 4, I16: 6, I32: 8, I64: 10, STRING: 11, STRUCT: 12, MAP: 13, SET: 14, LIST: 15 } as const;

export function wireOf(type: ThriftType): number {
  switch (type.kind) {
    case 'bool':
      return T.BOOL;
    case 'i8':
      return T.BYTE;
    case 'i16':
      return T.I16;
    case 'i32':
    case 'enum':
      return T.I32;
    case 'i64':
      return T.I64;
    case 'double':
      return T.DOUBLE;
    case 'string':
    case 'binary':
      return T.STRING;
    case 'struct':
      return T.STRUCT;
    case 'map':
      return T.MAP;
    case 'set':
      return T.SET;
    case 'list':
      return T.LIST;
  }
}

const RANGES: Record<string, [number, number]> = { i8: [-128, 127], i16: [-32768, 32767], i32: [-2147483648, 2147483647] };


interface Header {
  wire: number;
  id: number;
  /** Compact protocol: a bool field's value travels in its header. */
  bool?: boolean;
}

export abstract class Codec {
  constructor(readonly model: ThriftModel) {}

  protected abstract structBegin(): void;
  protected abstract structEnd(): void;
  protected abstract writeFieldHeader(out: DataOutput, wire: number, id: number, bool?: boolean): void;
  protected abstract writeStop(out: DataOutput): void;
  protected abstract readFieldHeader(input: DataInput): Header | undefined;
  protected abstract writeInt(out: DataOutput, kind: 'i8' | 'i16' | 'i32', v: number): void;
  protected abstract readInt(input: DataInput, kind: 'i8' | 'i16' | 'i32'): number;
  protected abstract writeI64(out: DataOutput, v: bigint): void;
  protected abstract readI64(input: DataInput): bigint;
  protected abstract writeDouble(out: DataOutput, v: number): void;
  protected abstract readDouble(input: DataInput): number;
  protected abstract writeBinary(out: DataOutput, v: Uint8Array): void;
  protected abstract readBinary(input: DataInput): Uint8Array;
  /** The length prefix of a string or binary. */
  protected abstract writeLength(out: DataOutput, n: number): void;
  /** A string or binary length, which must fit in what is left. */
  protected abstract readLength(input: DataInput): number;

  private readonly names = new Map<string, Map<number, string>>();

  /** An enum's names by value, built once. */
  private enumNames(name: string): Map<number, string> {
    let names = this.names.get(name);
    if (!names) {
      names = new Map([...this.model.enums.get(name)!].map(([k, v]) => [v, k]));
      this.names.set(name, names);
    }
    return names;
  }
  protected abstract writeBool(out: DataOutput, v: boolean): void;
  protected abstract readBool(input: DataInput): boolean;
  protected abstract writeListHeader(out: DataOutput, elem: number, size: number): void;
  protected abstract readListHeader(input: DataInput): { elem: number; size: number };
  protected abstract writeMapHeader(out: DataOutput, key: number, value: number, size: number): void;
  protected abstract readMapHeader(input: DataInput): { key: number; value: number; size: number };

  /** Writes a top-level struct; errors name their place from the struct: "Order.items[0].sku". */
  write(out: DataOutput, struct: ThriftStruct, value: unknown): void {
    this.reset();
    try {
      this.writeStruct(out, struct, value);
    } catch (error) {
      throw nest(error, struct.name);
    }
  }

  /** Reads a top-level struct. */
  read(input: DataInput, struct: ThriftStruct): Record<string, unknown> {
    this.reset();
    return this.readStruct(input, struct);
  }

  /** Forgets per-value state left by a value that failed halfway. */
  protected reset(): void {}

  writeStruct(out: DataOutput, struct: ThriftStruct, value: unknown): void {
    if (!isRecordValue(value)) throw new EncodeError(`expected a plain object with the fields of ${struct.name}, got ${describeValue(value)}`);
    const record = value;
    // A key the struct does not declare would be lost: refused.
    struct.refuseUndeclared(record);
    if (struct.union) {
      const set = struct.fields.filter((f) => record[f.name] !== undefined && record[f.name] !== null);
      if (set.length !== 1) throw new EncodeError(`union ${struct.name} needs exactly one field set (the others null), got ${set.length}`);
    }
    this.structBegin();
    let name = '';
    try {
      for (const field of struct.fields) {
        name = field.name;
        let v = record[field.name];
        if (v === undefined || v === null) {
          if (field.requiredness === 'required') throw new EncodeError('required field is missing');
          if (field.requiredness === 'default' && field.default !== undefined && v === undefined) v = field.default;
          else continue;
        }
        const wire = wireOf(field.type);
        if (field.type.kind === 'bool' && typeof v === 'boolean' && this.boolInHeader) {
          this.writeFieldHeader(out, wire, field.id, v);
          continue;
        }
        this.writeFieldHeader(out, wire, field.id);
        this.writeValue(out, field.type, v);
      }
    } catch (error) {
      throw nest(error, name);
    }
    this.writeStop(out);
    this.structEnd();
  }

  protected get boolInHeader(): boolean {
    return false;
  }

  readStruct(input: DataInput, struct: ThriftStruct): Record<string, unknown> {
    input.enter();
    // Every field is present: its value, its default, or null when absent.
    const value: Record<string, unknown> = {};
    for (const f of struct.fields) value[f.name] = f.default === undefined ? null : cloneDefault(f.default);
    this.structBegin();
    for (;;) {
      const header = this.readFieldHeader(input);
      if (!header) break;
      const field = struct.byId.get(header.id);
      if (!field || wireOf(field.type) !== header.wire) {
        if (header.bool === undefined) this.skip(input, header.wire);
        continue;
      }
      value[field.name] = header.bool !== undefined ? header.bool : this.readValue(input, field.type);
    }
    this.structEnd();
    for (const f of struct.fields) {
      if (f.requiredness === 'required' && value[f.name] === null) throw new DecodeError(`required field ${struct.name}.${f.name} (id ${f.id}) is missing`, input.offset);
    }
    input.leave();
    return value;
  }

  writeValue(out: DataOutput, type: ThriftType, v: unknown): void {
    const wrong = () => new EncodeError(`expected ${typeName(type)}${type.kind === 'enum' ? ` (${[...this.model.enums.get(type.name)!.keys()].join(', ')})` : ''}, got ${describeValue(v)}`);
    switch (type.kind) {
      case 'bool':
        if (typeof v !== 'boolean') throw wrong();
        return this.writeBool(out, v);
      case 'i8':
      case 'i16':
      case 'i32': {
        const [min, max] = RANGES[type.kind];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw wrong();
        return this.writeInt(out, type.kind, v);
      }
      case 'enum': {
        const n = typeof v === 'string' ? this.model.enums.get(type.name)!.get(v) : undefined;
        if (n === undefined) throw wrong();
        return this.writeInt(out, 'i32', n);
      }
      case 'i64':
        if (typeof v !== 'bigint' || v < -(1n << 63n) || v >= 1n << 63n) throw wrong();
        return this.writeI64(out, v);
      case 'double':
        if (typeof v !== 'number') throw wrong();
        return this.writeDouble(out, v);
      case 'string': {
        if (typeof v !== 'string') throw wrong();
        const n = utf8Length(v);
        this.writeLength(out, n);
        return out.writeUtf8(v, n);
      }
      case 'binary':
        if (!(v instanceof Uint8Array)) throw wrong();
        return this.writeBinary(out, v);
      case 'struct':
        return this.writeStruct(out, structOf(this.model, type.name), v);
      case 'list':
      case 'set': {
        if (type.kind === 'list' ? !Array.isArray(v) : !(v instanceof Set)) throw wrong();
        const items = v as unknown[] | Set<unknown>;
        this.writeListHeader(out, wireOf(type.elem), Array.isArray(items) ? items.length : items.size);
        let i = 0;
        try {
          for (const e of items) {
            this.writeValue(out, type.elem, e);
            i++;
          }
        } catch (error) {
          throw nest(error, `[${i}]`);
        }
        return;
      }
      case 'map': {
        if (!(v instanceof Map)) throw wrong();
        this.writeMapHeader(out, wireOf(type.key), wireOf(type.value), v.size);
        let where = '{key}';
        try {
          for (const [k, e] of v) {
            where = '{key}';
            this.writeValue(out, type.key, k);
            where = '{value}';
            this.writeValue(out, type.value, e);
          }
        } catch (error) {
          throw nest(error, where);
        }
      }
    }
  }

  readValue(input: DataInput, type: ThriftType): unknown {
    switch (type.kind) {
      case 'bool':
        return this.readBool(input);
      case 'i8':
      case 'i16':
      case 'i32':
        return this.readInt(input, type.kind);
      case 'enum': {
        const at = input.offset;
        const n = this.readInt(input, 'i32');
        const name = this.enumNames(type.name).get(n);
        if (name === undefined) throw new DecodeError(`enum ${type.name} has no value ${n}`, at);
        return name;
      }
      case 'i64':
        return this.readI64(input);
      case 'double':
        return this.readDouble(input);
      case 'string':
        return input.readUtf8(this.readLength(input));
      case 'binary':
        return input.readCopy(this.readLength(input));
      case 'struct':
        return this.readStruct(input, structOf(this.model, type.name));
      case 'list':
      case 'set': {
        const at = input.offset;
        const { elem, size } = this.readListHeader(input);
        if (elem !== wireOf(type.elem) && size > 0) throw new DecodeError(`${type.kind} of ${typeName(type.elem)} holds elements of wire type ${elem}`, at);
        input.enter();
        const items = [];
        for (let i = 0; i < size; i++) items.push(this.readValue(input, type.elem));
        input.leave();
        return type.kind === 'set' ? new Set(items) : items;
      }
      case 'map': {
        const at = input.offset;
        const { key, value, size } = this.readMapHeader(input);
        if (size > 0 && (key !== wireOf(type.key) || value !== wireOf(type.value))) throw new DecodeError(`map<${typeName(type.key)},${typeName(type.value)}> holds wire types ${key}, ${value}`, at);
        input.enter();
        const map = new Map();
        for (let i = 0; i < size; i++) {
          const k = this.readValue(input, type.key);
          map.set(k, this.readValue(input, type.value));
        }
        input.leave();
        return map;
      }
    }
  }

  /** Skips a value of a wire type (unknown fields). */
  skip(input: DataInput, wire: number): void {
    switch (wire) {
      case T.BOOL:
        return void this.readBool(input);
      case T.BYTE:
        return void this.readInt(input, 'i8');
      case T.I16:
        return void this.readInt(input, 'i16');
      case T.I32:
        return void this.readInt(input, 'i32');
      case T.I64:
        return void this.readI64(input);
      case T.DOUBLE:
        return void this.readDouble(input);
      case T.STRING:
        return void this.readBinary(input);
      case T.STRUCT: {
        input.enter();
        this.structBegin();
        for (let h = this.readFieldHeader(input); h; h = this.readFieldHeader(input)) if (h.bool === undefined) this.skip(input, h.wire);
        this.structEnd();
        input.leave();
        return;
      }
      case T.LIST:
      case T.SET: {
        const { elem, size } = this.readListHeader(input);
        input.enter();
        for (let i = 0; i < size; i++) this.skip(input, elem);
        input.leave();
        return;
      }
      case T.MAP: {
        const { key, value, size } = this.readMapHeader(input);
        input.enter();
        for (let i = 0; i < size; i++) {
          this.skip(input, key);
          this.skip(input, value);
        }
        input.leave();
        return;
      }
      default:
        throw new DecodeError(`unknown Thrift wire type ${wire}`, input.offset);
    }
  }
}

function cloneDefault(v: unknown): unknown {
  return typeof v === 'object' && v !== null ? structuredClone(v) : v;
}

/** TBinaryProtocol: big-endian, i32 lengths, a type byte and i16 id per field. */
export class BinaryCodec extends Codec {
  protected structBegin(): void {}
  protected structEnd(): void {}
  protected writeFieldHeader(out: DataOutput, wire: number, id: number): void {
    out.writeUint8(wire);
    out.writeUint8((id >> 8) & 0xff);
    out.writeUint8(id & 0xff);
  }
  protected writeStop(out: DataOutput): void {
    out.writeUint8(T.STOP);
  }
  protected readFieldHeader(input: DataInput): Header | undefined {
    const wire = input.readUint8();
    if (wire === T.STOP) return undefined;
    const id = (input.readUint8() << 8) | input.readUint8();
    return { wire, id: id > 0x7fff ? id - 0x10000 : id };
  }
  protected writeInt(out: DataOutput, kind: 'i8' | 'i16' | 'i32', v: number): void {
    if (kind === 'i8') out.writeUint8(v & 0xff);
    else if (kind === 'i16') {
      out.writeUint8((v >> 8) & 0xff);
      out.writeUint8(v & 0xff);
    } else out.writeInt32(v);
  }
  protected readInt(input: DataInput, kind: 'i8' | 'i16' | 'i32'): number {
    if (kind === 'i8') return (input.readUint8() << 24) >> 24;
    if (kind === 'i16') return (((input.readUint8() << 8) | input.readUint8()) << 16) >> 16;
    return input.readInt32();
  }
  protected writeI64(out: DataOutput, v: bigint): void {
    out.writeInt64(v);
  }
  protected readI64(input: DataInput): bigint {
    return input.readInt64();
  }
  protected writeDouble(out: DataOutput, v: number): void {
    out.writeFloat64(v);
  }
  protected readDouble(input: DataInput): number {
    return input.readFloat64();
  }
  protected writeBinary(out: DataOutput, v: Uint8Array): void {
    out.writeInt32(v.length);
    out.writeRaw(v);
  }
  protected readBinary(input: DataInput): Uint8Array {
    return input.readRaw(this.readLength(input));
  }
  protected writeLength(out: DataOutput, n: number): void {
    out.writeInt32(n);
  }
  protected readLength(input: DataInput): number {
    const at = input.offset;
    const n = input.readInt32();
    if (n < 0 || n > input.remaining) throw new DecodeError(`binary length ${n} is beyond the ${input.remaining} bytes left`, at);
    return n;
  }
  protected writeBool(out: DataOutput, v: boolean): void {
    out.writeUint8(v ? 1 : 0);
  }
  protected readBool(input: DataInput): boolean {
    return input.readUint8() !== 0;
  }
  protected writeListHeader(out: DataOutput, elem: number, size: number): void {
    out.writeUint8(elem);
    out.writeInt32(size);
  }
  protected readListHeader(input: DataInput): { elem: number; size: number } {
    const at = input.offset;
    const elem = input.readUint8();
    const size = input.readInt32();
    if (size < 0 || size > input.remaining) throw new DecodeError(`collection size ${size} is beyond the bytes left`, at);
    return { elem, size };
  }
  protected writeMapHeader(out: DataOutput, key: number, value: number, size: number): void {
    out.writeUint8(key);
    out.writeUint8(value);
    out.writeInt32(size);
  }
  protected readMapHeader(input: DataInput): { key: number; value: number; size: number } {
    const at = input.offset;
    const key = input.readUint8();
    const value = input.readUint8();
    const size = input.readInt32();
    if (size < 0 || size > input.remaining) throw new DecodeError(`map size ${size} is beyond the bytes left`, at);
    return { key, value, size };
  }
}

/** Compact type nibbles, by wire type. */
const COMPACT: Record<number, number> = { [T.BOOL]: 1, [T.BYTE]: 3, [T.I16]: 4, [T.I32]: 5, [T.I64]: 6, [T.DOUBLE]: 7, [T.STRING]: 8, [T.LIST]: 9, [T.SET]: 10, [T.MAP]: 11, [T.STRUCT]: 12 };
const FROM_COMPACT: Record<number, number> = { 1: T.BOOL, 2: T.BOOL, 3: T.BYTE, 4: T.I16, 5: T.I32, 6: T.I64, 7: T.DOUBLE, 8: T.STRING, 9: T.LIST, 10: T.SET, 11: T.MAP, 12: T.STRUCT };

/** TCompactProtocol: zigzag varints, field id deltas, bools in field headers, little-endian doubles. */
export class CompactCodec extends Codec {
  private lastId = 0;
  private readonly stack: number[] = [];

  protected override get boolInHeader(): boolean {
    return true;
  }
  protected override reset(): void {
    this.lastId = 0;
    this.stack.length = 0;
  }
  protected structBegin(): void {
    this.stack.push(this.lastId);
    this.lastId = 0;
  }
  protected structEnd(): void {
    this.lastId = this.stack.pop() ?? 0;
  }
  protected writeFieldHeader(out: DataOutput, wire: number, id: number, bool?: boolean): void {
    const type = wire === T.BOOL && bool !== undefined ? (bool ? 1 : 2) : COMPACT[wire];
    const delta = id - this.lastId;
    if (delta > 0 && delta <= 15) out.writeUint8((delta << 4) | type);
    else {
      out.writeUint8(type);
      out.writeVarInt(id);
    }
    this.lastId = id;
  }
  protected writeStop(out: DataOutput): void {
    out.writeUint8(0);
  }
  protected readFieldHeader(input: DataInput): Header | undefined {
    const at = input.offset;
    const byte = input.readUint8();
    if (byte === 0) return undefined;
    const type = byte & 0x0f;
    const delta = byte >> 4;
    const id = delta ? this.lastId + delta : input.readVarInt();
    this.lastId = id;
    const wire = FROM_COMPACT[type];
    if (wire === undefined) throw new DecodeError(`unknown compact type ${type}`, at);
    return type === 1 || type === 2 ? { wire, id, bool: type === 1 } : { wire, id };
  }
  protected writeInt(out: DataOutput, kind: 'i8' | 'i16' | 'i32', v: number): void {
    if (kind === 'i8') out.writeUint8(v & 0xff);
    else out.writeVarInt(v);
  }
  protected readInt(input: DataInput, kind: 'i8' | 'i16' | 'i32'): number {
    if (kind === 'i8') return (input.readUint8() << 24) >> 24;
    return input.readVarInt();
  }
  protected writeI64(out: DataOutput, v: bigint): void {
    out.writeVarInt64(v);
  }
  protected readI64(input: DataInput): bigint {
    return input.readVarInt64();
  }
  protected writeDouble(out: DataOutput, v: number): void {
    out.writeFloat64LE(v);
  }
  protected readDouble(input: DataInput): number {
    return input.readFloat64LE();
  }
  protected writeBinary(out: DataOutput, v: Uint8Array): void {
    out.writeBytes(v);
  }
  protected readBinary(input: DataInput): Uint8Array {
    return input.readRaw(this.readLength(input));
  }
  protected writeLength(out: DataOutput, n: number): void {
    out.writeVarUint(n);
  }
  protected readLength(input: DataInput): number {
    return input.readLength('a Thrift string or binary');
  }
  protected writeBool(out: DataOutput, v: boolean): void {
    out.writeUint8(v ? 1 : 2);
  }
  protected readBool(input: DataInput): boolean {
    return input.readUint8() === 1;
  }
  protected writeListHeader(out: DataOutput, elem: number, size: number): void {
    if (size < 15) out.writeUint8((size << 4) | COMPACT[elem]);
    else {
      out.writeUint8(0xf0 | COMPACT[elem]);
      out.writeVarUint(size);
    }
  }
  protected readListHeader(input: DataInput): { elem: number; size: number } {
    const byte = input.readUint8();
    const size = byte >> 4 === 15 ? input.readLength('a Thrift collection') : byte >> 4;
    return { elem: FROM_COMPACT[byte & 0x0f], size };
  }
  protected writeMapHeader(out: DataOutput, key: number, value: number, size: number): void {
    if (size === 0) return out.writeUint8(0);
    out.writeVarUint(size);
    out.writeUint8((COMPACT[key] << 4) | COMPACT[value]);
  }
  protected readMapHeader(input: DataInput): { key: number; value: number; size: number } {
    const size = input.readLength('a Thrift map');
    if (size === 0) return { key: 0, value: 0, size: 0 };
    const byte = input.readUint8();
    return { key: FROM_COMPACT[byte >> 4], value: FROM_COMPACT[byte & 0x0f], size };
  }
}

export function codecFor(model: ThriftModel, protocol: ProtocolName): Codec {
  return protocol === 'compact' ? new CompactCodec(model) : new BinaryCodec(model);
}
