/**
 * Walking a verified block's entries where they lie. One cursor serves a whole block (or many, one
 * after another): `next()` sets its fields to the next entry's parts as offsets into the payload,
 * so a reader that copies bytes onwards (a restore into LevelDB, a copy pass) makes no object and
 * no view per entry. Malformed entries throw CorruptSavepointError naming the file and offset.
 *
 * An entry in a block: state (varuint), key group (varuint), key, namespace and map key (each a
 * varuint length, then the bytes), schema version (varuint), value (varuint length, then the bytes).
 */
import { CorruptSavepointError } from '@stateshift/core';

/** A block whose header and checksum were checked: its entries' bytes and where they lie. */
export interface EntryBlock {
  payload: Uint8Array;
  /** Entries in the payload, from the block header. */
  count: number;
  /** The key group of every entry in the block. */
  keyGroup: number;
  /** File offset of the payload's first byte. */
  offset: number;
  /** The file, for errors. */
  path: string;
}

export class EntryCursor {
  payload: Uint8Array = new Uint8Array(0);
  state = 0;
  keyGroup = 0;
  /** Where the key's length prefix starts: `[keyHead, namespaceEnd)` is key and namespace, each length-prefixed. */
  keyHead = 0;
  keyStart = 0;
  keyEnd = 0;
  namespaceStart = 0;
  namespaceEnd = 0;
  mapKeyStart = 0;
  mapKeyEnd = 0;
  version = 0;
  valueStart = 0;
  valueEnd = 0;
  private pos = 0;
  /** Where the entries end (the payload's length, but for `entryAt`). */
  private limit = 0;
  private left = 0;
  private path = '';
  private base = 0;
  private blockKeyGroup = -1;

  /** Starts on a block: `next()` then yields its entries. */
  reset(block: EntryBlock): this {
    this.payload = block.payload;
    this.limit = block.payload.length;
    this.left = block.count;
    this.path = block.path;
    this.base = block.offset;
    this.blockKeyGroup = block.keyGroup;
    this.pos = 0;
    return this;
  }

  /**
   * Reads the entry that starts at `bytes[start]`, which must end by `end`; `end` (the getter) then
   * says where it ends. Malformed bytes throw CorruptSavepointError naming `what` and the offset.
   */
  entryAt(bytes: Uint8Array, start: number, end: number, what: string): void {
    this.payload = bytes;
    this.limit = end;
    this.left = 1;
    this.path = what;
    this.base = 0;
    this.blockKeyGroup = -1;
    this.pos = start;
    this.next();
  }

  /** Where the current entry ends. */
  get end(): number {
    return this.pos;
  }

  /** Moves to the next entry; false after the last one (having checked that the block ends there). */
  next(): boolean {
    if (this.left === 0) {
      if (this.pos !== this.limit) this.fail(`${this.limit - this.pos} bytes after the block's last entry`, this.pos);
      return false;
    }
    this.left--;
    this.state = this.varUint();
    const at = this.pos;
    this.keyGroup = this.varUint();
    if (this.keyGroup !== this.blockKeyGroup && this.blockKeyGroup !== -1) this.fail(`a block of key group ${this.blockKeyGroup} holds an entry of key group ${this.keyGroup}`, at);
    this.keyHead = this.pos;
    this.keyEnd = this.bytes();
    this.keyStart = this.keyEnd - this.last;
    this.namespaceEnd = this.bytes();
    this.namespaceStart = this.namespaceEnd - this.last;
    this.mapKeyEnd = this.bytes();
    this.mapKeyStart = this.mapKeyEnd - this.last;
    this.version = this.varUint();
    this.valueEnd = this.bytes();
    this.valueStart = this.valueEnd - this.last;
    return true;
  }

  /** Views of the current entry's parts. */
  key(): Uint8Array {
    return this.payload.subarray(this.keyStart, this.keyEnd);
  }
  namespace(): Uint8Array {
    return this.payload.subarray(this.namespaceStart, this.namespaceEnd);
  }
  mapKey(): Uint8Array {
    return this.payload.subarray(this.mapKeyStart, this.mapKeyEnd);
  }
  value(): Uint8Array {
    return this.payload.subarray(this.valueStart, this.valueEnd);
  }

  /** Length of the last `bytes()` read. */
  private last = 0;

  /** Skips a length-prefixed run of bytes; returns where it ends. */
  private bytes(): number {
    const at = this.pos;
    const n = this.varUint();
    if (n > this.limit - this.pos) this.fail(`a length of ${n} bytes runs past the end of the block`, at);
    this.last = n;
    return (this.pos += n);
  }

  private varUint(): number {
    const buf = this.payload;
    let pos = this.pos;
    // One byte: most varuints here (state, key group, lengths, versions) are small.
    if (pos < this.limit && buf[pos] < 0x80) {
      this.pos = pos + 1;
      return buf[pos];
    }
    const at = pos;
    let value = 0;
    let scale = 1;
    for (;;) {
      if (pos >= this.limit) this.fail('an entry runs past the end of the block', at);
      const b = buf[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 28) this.fail('a varuint longer than 5 bytes', at);
    }
    if (value > 0xffff_ffff) this.fail('a varuint past 32 bits', at);
    this.pos = pos;
    return value;
  }

  /**
   * A verified block's payload as an EntryBlock: its key group is the first entry's (checked against
   * every other entry's as the block is walked).
   */
  static block(payload: Uint8Array, count: number, offset: number, path: string): EntryBlock {
    const block: EntryBlock = { payload, count, keyGroup: -1, offset, path };
    if (count > 0 && peek.reset(block).next()) block.keyGroup = peek.keyGroup;
    return block;
  }

  private fail(what: string, at: number): never {
    throw new CorruptSavepointError(`cannot decode entries: ${what}`, this.path, this.base + at);
  }
}

const peek = new EntryCursor();
