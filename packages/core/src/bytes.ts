/**
 * Bytes in and out. `DataOutput` is a growable buffer; `DataInput` reads a Uint8Array and throws a
 * `DecodeError` with the offset on anything it cannot read, never returning garbage.
 *
 * Fixed-width numbers are big-endian (as Flink's DataOutputView). Varints are unsigned LEB128, as in
 * Protobuf and Avro; signed varints use zigzag.
 */
import { DecodeError, EncodeError } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const INITIAL_SIZE = 256;

/**
 * How deep decoders may nest (composites in composites, records in records, skipped unknown
 * structs): far beyond what schemas use, far below what overflows the stack.
 */
export const MAX_DEPTH = 1000;

/**
 * Unsigned LEB128 of `n` (a non-negative safe integer, unchecked: callers pass lengths and indexes)
 * into `out` at `at`, which has room; returns the position after it. For framing written straight
 * into a buffer (savepoint blocks, LSM keys) where a `DataOutput` would cost a copy.
 */
export function putVarUint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** How many bytes `putVarUint` writes for `n`. */
export function varUintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    length++;
  }
  return length;
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Rounding to the nearest float32 is what a float field means; a finite number it would round to
 * ±Infinity is refused. Called only beyond FLOAT32_MAX, so the writes stay small.
 */
function refuseFloat32Overflow(v: number): void {
  if (Number.isFinite(v) && !Number.isFinite(Math.fround(v))) {
    throw new EncodeError(`${v} (number) is beyond float's range (±${FLOAT32_MAX}) and would be written as ${Math.fround(v)}; use "double" for this field`);
  }
}

/**
 * The UTF-8 byte length of a string. A string that UTF-8 cannot hold without loss (a lone
 * surrogate, such as '\uD800') throws an `EncodeError`: it is never replaced by U+FFFD.
 */
export function utf8Length(value: string): number {
  const n = value.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c < 0xd800 || c > 0xdfff) bytes += 2;
    else if (c <= 0xdbff && i + 1 < n && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2;
      i++;
    } else {
      throw new EncodeError(
        `string holds a lone surrogate (\\u${c.toString(16).toUpperCase()} at index ${i}), which UTF-8 cannot encode without loss; ` +
          'fix the string (String.prototype.toWellFormed replaces it explicitly) or store it as bytes',
      );
    }
  }
  return bytes;
}

export class DataOutput {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialSize = INITIAL_SIZE) {
    this.buf = new Uint8Array(Math.max(16, initialSize));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Forgets what was written; the buffer is kept for reuse. */
  reset(): void {
    this.pos = 0;
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** A view of the bytes written so far; valid until the next write or reset. */
  peek(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /**
   * Lets an encoder of another library write straight into the buffer, without a copy.
   * `write(bytes, offset)` writes from `offset` and returns the end offset, or a number `<= 0` when
   * the room was too small: minus the bytes missing (then the buffer grows and `write` runs again).
   */
  writeInPlace(write: (bytes: Uint8Array, offset: number) => number): void {
    for (;;) {
      const end = write(this.buf, this.pos);
      if (end > 0 || (end === 0 && this.pos === 0)) {
        this.pos = end;
        return;
      }
      this.ensure(this.buf.length - this.pos - end + 1);
    }
  }

  /** Makes room for `extra` more bytes. */
  ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  writeUint8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  writeBoolean(value: boolean): void {
    this.writeUint8(value ? 1 : 0);
  }

  writeInt32(value: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }

  writeUint32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }

  writeInt64(value: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, value);
    this.pos += 8;
  }

  /** Big-endian float32: rounded to the nearest float32; a finite number beyond its range is refused (see refuseFloat32Overflow). */
  writeFloat32(value: number): void {
    if (value > FLOAT32_MAX || value < -FLOAT32_MAX) refuseFloat32Overflow(value);
    this.ensure(4);
    this.view.setFloat32(this.pos, value);
    this.pos += 4;
  }

  writeFloat64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }

  /** Little-endian float64 (Avro, Thrift compact). */
  writeFloat64LE(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Little-endian float32 (Avro, Protobuf), as writeFloat32. */
  writeFloat32LE(value: number): void {
    if (value > FLOAT32_MAX || value < -FLOAT32_MAX) refuseFloat32Overflow(value);
    this.ensure(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
  }

  /** Little-endian 32 bits of an int32 or uint32 (Protobuf fixed32, sfixed32). */
  writeInt32LE(value: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, value | 0, true);
    this.pos += 4;
  }

  /** Little-endian 64 bits of a bigint in the int64 or uint64 range (Protobuf fixed64, sfixed64). */
  writeInt64LE(value: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, value), true);
    this.pos += 8;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  writeVarUint(value: number): void {
    if (value >= 0 && value < 0x80000000 && (value | 0) === value) {
      this.ensure(5);
      while (value >= 0x80) {
        this.buf[this.pos++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
      this.buf[this.pos++] = value;
      return;
    }
    if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value))) {
      throw new RangeError(`writeVarUint: ${value} is not a non-negative safe integer`);
    }
    this.ensure(8);
    // Two 32-bit halves, shifted together 7 bits at a time (no floating-point division per byte).
    let lo = value >>> 0;
    let hi = (value - lo) / 4294967296;
    const buf = this.buf;
    let pos = this.pos;
    while (hi) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  /** Zigzag then LEB128 of a safe integer. */
  writeVarInt(value: number): void {
    if ((value | 0) === value) {
      this.writeVarUint32(((value << 1) ^ (value >> 31)) >>> 0);
      return;
    }
    if (!Number.isSafeInteger(value)) throw new RangeError(`writeVarInt: ${value} is not a safe integer`);
    this.writeVarUint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** Unsigned LEB128 of a uint32 (no range check: callers pass `x >>> 0`). */
  writeVarUint32(value: number): void {
    this.ensure(5);
    while (value >= 0x80) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[this.pos++] = value;
  }

  /** Unsigned LEB128 of a bigint in [0, 2^64). */
  writeVarUint64(value: bigint): void {
    if (value < 0n || value >= 1n << 64n) throw new RangeError(`writeVarUint64: ${value} is out of range`);
    this.ensure(10);
    while (value >= 0x80n) {
      this.buf[this.pos++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.buf[this.pos++] = Number(value);
  }

  /** Zigzag then LEB128 of a bigint in the int64 range. */
  writeVarInt64(value: bigint): void {
    // Values below 2^52 in magnitude zigzag exactly in number arithmetic, without bigint work
    // (a bigint of 2^52 or more never converts to a number below it).
    const n = Number(value);
    if (n > -4503599627370496 && n < 4503599627370496) {
      this.writeVarUint(n >= 0 ? n * 2 : -n * 2 - 1);
      return;
    }
    this.writeVarUint64(BigInt.asUintN(64, (value << 1n) ^ (value >> 63n)));
  }

  /**
   * Starts a section whose varint byte length is written before it once it is done: reserves one
   * byte and returns a mark for `endLengthPrefixed`. Nested sections are fine.
   */
  beginLengthPrefixed(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of the section started at `mark`, moving it when the length needs more than a byte. */
  endLengthPrefixed(mark: number): void {
    const n = this.pos - mark - 1;
    if (n < 0x80) {
      this.buf[mark] = n;
      return;
    }
    let size = 1;
    for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
    this.ensure(size - 1);
    this.buf.copyWithin(mark + size, mark + 1, this.pos);
    this.pos += size - 1;
    let v = n;
    let at = mark;
    while (v >= 0x80) {
      this.buf[at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[at] = v;
  }

  /** Raw bytes, no length. */
  writeRaw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Varint length, then the bytes. */
  writeBytes(bytes: Uint8Array): void {
    this.writeVarUint(bytes.length);
    this.writeRaw(bytes);
  }

  /** Varint byte length, then UTF-8. A lone surrogate throws `EncodeError` (see `utf8Length`). */
  writeString(value: string): void {
    this.writeLengthAndUtf8(value, false);
  }

  /**
   * A string's UTF-8 byte length as a varint (zigzag when `zigzag`, as Avro writes it), then the
   * UTF-8. Short ASCII strings take one pass. A lone surrogate throws `EncodeError`.
   */
  writeLengthAndUtf8(value: string, zigzag: boolean): void {
    const n = value.length;
    if (n < 64) {
      this.ensure(1 + n);
      const buf = this.buf;
      const start = this.pos;
      let pos = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[pos++] = c;
      }
      if (i === n) {
        buf[start] = zigzag ? n * 2 : n;
        this.pos = pos;
        return;
      }
    }
    const bytes = utf8Length(value);
    if (zigzag) this.writeVarUint(bytes * 2);
    else this.writeVarUint(bytes);
    this.writeUtf8(value, bytes);
  }

  /**
   * The UTF-8 of a string whose byte length `utf8Length` gave (so it is well formed), no length
   * prefix: formats write their own prefix first.
   */
  writeUtf8(value: string, byteLength: number): void {
    this.ensure(byteLength);
    const n = value.length;
    if (byteLength === n && n < 64) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = value.charCodeAt(i);
      this.pos = pos;
      return;
    }
    this.pos += encoder.encodeInto(value, this.buf.subarray(this.pos, this.pos + byteLength)).written;
  }
}

export class DataInput {
  readonly bytes: Uint8Array;
  /** Made on the first read that needs it: most values never do, and a DataView per value costs. */
  private dataView: DataView | undefined;
  private pos: number;
  private readonly end: number;
  private depth = 0;

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('DataInput needs a Uint8Array');
    if (offset < 0 || end > bytes.length || offset > end) throw new RangeError(`DataInput: bad range ${offset}..${end} of ${bytes.length}`);
    this.bytes = bytes;
    this.pos = offset;
    this.end = end;
  }

  private get view(): DataView {
    return (this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  /** Current read position, as an offset into `bytes`. */
  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new DecodeError(`unexpected end of input reading ${what}: needs ${n} byte${n === 1 ? '' : 's'}, ${this.end - this.pos} left`, this.pos);
    }
  }

  /**
   * Decoders call `enter()` before reading a nested value and `leave()` after it: nesting beyond
   * `MAX_DEPTH` is a `DecodeError` naming the depth and offset, never a stack overflow.
   */
  enter(): void {
    if (++this.depth > MAX_DEPTH) {
      this.depth = 0;
      throw new DecodeError(`value nested deeper than ${MAX_DEPTH} levels`, this.pos);
    }
  }

  leave(): void {
    this.depth--;
  }

  /**
   * A count of items that each take at least `minBytes` bytes (0: items that may take none): a
   * count the rest of the input cannot hold is a `DecodeError`, before anything is allocated or
   * looped over. Items of no size are capped at 2^20 per count.
   */
  checkCount(count: number, minBytes: number, what: string, at = this.pos): number {
    const left = this.end - this.pos;
    if (count < 0 || (minBytes > 0 ? count * minBytes > left : count > 0x100000)) {
      throw new DecodeError(`${what} claims ${count} items, more than the ${left} bytes left can hold`, at);
    }
    return count;
  }

  /** Throws unless every byte was read; for payloads that must be consumed whole. */
  expectEnd(what: string): void {
    if (this.pos !== this.end) throw new DecodeError(`${this.end - this.pos} unexpected trailing bytes after ${what}`, this.pos);
  }

  readUint8(): number {
    this.need(1, 'a byte');
    return this.bytes[this.pos++];
  }

  readBoolean(): boolean {
    const at = this.pos;
    const b = this.readUint8();
    if (b > 1) throw new DecodeError(`invalid boolean byte ${b}`, at);
    return b === 1;
  }

  readInt32(): number {
    this.need(4, 'an int32');
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  }

  readUint32(): number {
    this.need(4, 'a uint32');
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  readInt64(): bigint {
    this.need(8, 'an int64');
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  readFloat32(): number {
    this.need(4, 'a float32');
    const v = this.view.getFloat32(this.pos);
    this.pos += 4;
    return v;
  }

  readFloat64(): number {
    this.need(8, 'a float64');
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  readFloat64LE(): number {
    this.need(8, 'a float64');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  readInt32LE(): number {
    this.need(4, 'an int32');
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  readUint32LE(): number {
    this.need(4, 'a uint32');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  readInt64LE(): bigint {
    this.need(8, 'an int64');
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  readUint64LE(): bigint {
    this.need(8, 'a uint64');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /**
   * A varint of up to 10 bytes (64 bits) of which the low 32 bits are kept, as a signed int32:
   * Protobuf's int32, uint32 (`>>> 0`), enum and tag reading.
   */
  readVarint32(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    const end = this.end;
    if (pos < end && bytes[pos] < 0x80) {
      this.pos = pos + 1;
      return bytes[pos];
    }
    let v = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= end) throw new DecodeError('unexpected end of input inside a varint', pos);
      const b = bytes[pos++];
      if (shift < 32) v |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return v | 0;
      }
    }
    throw new DecodeError('varint longer than 10 bytes', this.pos);
  }

  readFloat32LE(): number {
    this.need(4, 'a float32');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Unsigned LEB128 that must fit a safe integer. */
  readVarUint(): number {
    const start = this.pos;
    if (start < this.end) {
      const first = this.bytes[start];
      if (first < 0x80) {
        this.pos = start + 1;
        return first;
      }
    }
    let result = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i >= 10) throw new DecodeError('varint longer than 10 bytes', start);
      if (this.pos >= this.end) throw new DecodeError('unexpected end of input inside a varint', this.pos);
      const b = this.bytes[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    if (result > Number.MAX_SAFE_INTEGER) throw new DecodeError(`varint ${result} exceeds the safe integer range`, start);
    return result;
  }

  /** Zigzag LEB128 that must fit a safe integer. */
  readVarInt(): number {
    const u = this.readVarUint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /**
   * A varint of at most 7 bytes (49 bits) in number arithmetic, the usual case of 64-bit reads:
   * its value, or -1 (nothing read) when it is longer or runs past the end.
   */
  private readVarint49(): number {
    const start = this.pos;
    const stop = Math.min(this.end, start + 7);
    let n = 0;
    let scale = 1;
    for (let p = start; p < stop; p++) {
      const b = this.bytes[p];
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = p + 1;
        return n;
      }
      scale *= 0x80;
    }
    return -1;
  }

  /** Unsigned LEB128 of up to 64 bits. */
  readVarUint64(): bigint {
    const start = this.pos;
    const small = this.readVarint49();
    if (small >= 0) return BigInt(small);
    let result = 0n;
    let shift = 0n;
    for (let i = 0; ; i++) {
      if (i >= 10) throw new DecodeError('varint longer than 10 bytes', start);
      if (this.pos >= this.end) throw new DecodeError('unexpected end of input inside a varint', this.pos);
      const b = this.bytes[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
    }
    if (result >= 1n << 64n) throw new DecodeError('varint exceeds 64 bits', start);
    return result;
  }

  /** Unsigned LEB128 of up to 64 bits read as two's complement, as a signed bigint (Protobuf int64). */
  readVarUint64AsInt64(): bigint {
    const small = this.readVarint49();
    if (small >= 0) return BigInt(small);
    return BigInt.asIntN(64, this.readVarUint64());
  }

  /** Zigzag LEB128 of up to 64 bits, as a signed bigint. */
  readVarInt64(): bigint {
    // Up to 7 bytes in number arithmetic, the usual case; longer ones as bigint.
    const n = this.readVarint49();
    if (n >= 0) return BigInt(n % 2 === 0 ? n / 2 : -(n + 1) / 2);
    const u = this.readVarUint64();
    return (u >> 1n) ^ -(u & 1n);
  }

  /** `n` raw bytes, as a view into the input (copy it to keep it past the input's life). */
  readRaw(n: number): Uint8Array {
    this.need(n, `${n} raw bytes`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Varint length, then that many bytes (a copy). */
  readBytes(): Uint8Array {
    return this.readCopy(this.readLength('bytes'));
  }

  /** `n` raw bytes as a new Uint8Array (a plain one even when the input is a Buffer). */
  readCopy(n: number): Uint8Array {
    const out = new Uint8Array(n);
    out.set(this.readRaw(n));
    return out;
  }

  /** Varint byte length, then UTF-8, which must be valid. */
  readString(): string {
    return this.readUtf8(this.readLength('a string'));
  }

  /** `n` bytes of UTF-8, which must be valid (formats read their own length prefix first). */
  readUtf8(n: number): string {
    this.need(n, 'a string');
    const start = this.pos;
    // ASCII fast path for short strings: very short ones without a view.
    if (n <= 16) {
      const bytes = this.bytes;
      let s = '';
      let i = start;
      for (; i < start + n; i++) {
        const b = bytes[i];
        if (b >= 0x80) break;
        s += String.fromCharCode(b);
      }
      if (i === start + n) {
        this.pos = i;
        return s;
      }
    } else if (n < 64) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (this.bytes[start + i] >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.pos += n;
        return n === 0 ? '' : String.fromCharCode.apply(null, this.bytes.subarray(start, start + n) as unknown as number[]);
      }
    }
    try {
      const s = decoder.decode(this.bytes.subarray(start, start + n));
      this.pos += n;
      return s;
    } catch (cause) {
      throw new DecodeError(`invalid UTF-8 in a string of ${n} bytes`, start, { cause });
    }
  }

  /** A varint length that must fit in what is left; guards allocations against corrupt lengths. */
  readLength(what: string): number {
    const at = this.pos;
    const n = this.readVarUint();
    if (n > this.end - this.pos) {
      throw new DecodeError(`length ${n} of ${what} exceeds the ${this.end - this.pos} bytes left`, at);
    }
    return n;
  }

  /** A reader of the next `n` bytes only; this one skips past them. */
  slice(n: number): DataInput {
    this.need(n, `a ${n}-byte section`);
    const sub = new DataInput(this.bytes, this.pos, this.pos + n);
    sub.depth = this.depth;
    this.pos += n;
    return sub;
  }

  skip(n: number): void {
    this.need(n, `${n} bytes to skip`);
    this.pos += n;
  }
}
