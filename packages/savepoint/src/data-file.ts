/**
 * Data files: entries in checksummed blocks, one key group per block, written and read as streams
 * (one block in memory at a time).
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptSavepointError, DataInput, DataOutput, DecodeError, keyGroupInRange, type KeyGroupRange } from '@stateshift/core';
import { crc32 } from './crc32.js';
import { BLOCK_HEADER_SIZE, DATA_MAGIC, FORMAT_VERSION, HEADER_SIZE, MAX_BLOCK_SIZE, TARGET_BLOCK_SIZE } from './format.js';
import type { DataFileMetadata, KeyGroupOffset } from './metadata.js';

/** One stored entry, as bytes. `key`, `namespace`, `mapKey` and `value` may be views into a block. */
export interface RawEntry {
  /** Index of the state in its operator's `states`. */
  state: number;
  keyGroup: number;
  key: Uint8Array;
  /** Empty when the operator has no namespace serializer. */
  namespace: Uint8Array;
  /** Empty unless the state is a map state. */
  mapKey: Uint8Array;
  /** Schema version id of `value`. */
  version: number;
  value: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export class DataFileWriter {
  private readonly block = new DataOutput(TARGET_BLOCK_SIZE + 1024);
  private blockEntries = 0;
  private blockKeyGroup = -1;
  private lastKeyGroup = -1;
  private position = HEADER_SIZE;
  private checksum: number;
  private entries = 0;
  private readonly index: KeyGroupOffset[] = [];
  private readonly stateTotals: { entries: number; bytes: number }[] = [];
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    readonly name: string,
    readonly operator: number,
    readonly range: KeyGroupRange,
  ) {
    this.checksum = crc32(header());
  }

  /** Creates `dir/name`; it must not exist yet. */
  static async create(dir: string, name: string, operator: number, range: KeyGroupRange): Promise<DataFileWriter> {
    const path = join(dir, name);
    const handle = await open(path, 'wx');
    await handle.write(header());
    return new DataFileWriter(handle, path, name, operator, range);
  }

  /**
   * Adds an entry. Key groups must not decrease within a file. Returns a promise only when a block
   * was written out; await it before the next append.
   */
  append(entry: RawEntry): Promise<void> | undefined {
    if (this.closed) throw new TypeError(`data file ${this.name} is closed`);
    const kg = entry.keyGroup;
    if (!keyGroupInRange(kg, this.range)) {
      throw new RangeError(`key group ${kg} is outside the range ${this.range.start}-${this.range.end} of data file ${this.name}`);
    }
    if (kg < this.lastKeyGroup) throw new RangeError(`entries of data file ${this.name} must come in key-group order: ${kg} after ${this.lastKeyGroup}`);
    let flushing: Promise<void> | undefined;
    if (this.blockEntries > 0 && kg !== this.blockKeyGroup) flushing = this.flush();
    if (kg !== this.lastKeyGroup) {
      this.index.push({ keyGroup: kg, offset: this.position });
      this.lastKeyGroup = kg;
    }
    this.blockKeyGroup = kg;
    const out = this.block;
    out.writeVarUint(entry.state);
    out.writeVarUint(kg);
    out.writeBytes(entry.key);
    out.writeBytes(entry.namespace);
    out.writeBytes(entry.mapKey);
    out.writeVarUint(entry.version);
    out.writeBytes(entry.value);
    this.blockEntries++;
    this.entries++;
    const totals = (this.stateTotals[entry.state] ??= { entries: 0, bytes: 0 });
    totals.entries++;
    totals.bytes += entry.value.length;
    if (out.length >= TARGET_BLOCK_SIZE) {
      const next = this.flush();
      flushing = flushing ? flushing.then(() => next) : next;
    }
    return flushing;
  }

  /** Writes the current block out. The position advances synchronously so index offsets stay right. */
  private flush(): Promise<void> {
    const payload = this.block.toBytes();
    const head = new DataOutput(BLOCK_HEADER_SIZE);
    head.writeUint32(payload.length);
    head.writeUint32(crc32(payload));
    head.writeUint32(this.blockEntries);
    const headBytes = head.toBytes();
    this.checksum = crc32(payload, crc32(headBytes, this.checksum));
    const at = this.position;
    this.position += BLOCK_HEADER_SIZE + payload.length;
    this.block.reset();
    this.blockEntries = 0;
    return this.handle.writev([headBytes, payload], at).then(() => undefined);
  }

  /** Writes the last block, syncs and closes the file, and returns its metadata. */
  async close(): Promise<DataFileMetadata> {
    if (this.closed) throw new TypeError(`data file ${this.name} is already closed`);
    if (this.blockEntries > 0) await this.flush();
    this.closed = true;
    await this.handle.sync();
    await this.handle.close();
    return {
      name: this.name,
      operator: this.operator,
      range: this.range,
      entries: this.entries,
      size: this.position,
      checksum: this.checksum,
      index: this.index,
      stateTotals: Array.from(this.stateTotals, (t) => t ?? { entries: 0, bytes: 0 }),
    };
  }

  /** Closes without metadata, e.g. after a failure; the file is left for the caller to remove. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => undefined);
  }

  get filePath(): string {
    return this.path;
  }
}

function header(): Uint8Array {
  const h = new Uint8Array(HEADER_SIZE);
  h.set(DATA_MAGIC);
  h[4] = FORMAT_VERSION;
  return h;
}

export interface ReadOptions {
  /** Only entries of these key groups (uses the file's key-group index to skip the rest). */
  range?: KeyGroupRange;
}

/**
 * Reads a data file block by block, yielding the entries of each verified block. Anything damaged,
 * truncated or missing throws CorruptSavepointError naming the file and offset.
 */
export async function* readDataFileBlocks(dir: string, file: DataFileMetadata, options: ReadOptions = {}): AsyncGenerator<RawEntry[]> {
  const path = join(dir, file.name);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new CorruptSavepointError('data file is missing; the savepoint is incomplete or was moved without it', path);
  }
  if (size !== file.size) {
    throw new CorruptSavepointError(
      `data file is ${size} bytes but the metadata says ${file.size}${size < file.size ? ' (truncated)' : ''}`,
      path,
      Math.min(size, file.size),
    );
  }
  const range = options.range;
  const whole = !range || (range.start <= file.range.start && range.end >= file.range.end);
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(HEADER_SIZE);
    await readExactly(handle, head, 0, path);
    if (!DATA_MAGIC.every((b, i) => head[i] === b)) throw new CorruptSavepointError('not a stateshift data file (wrong magic bytes)', path, 0);
    if (head[4] !== FORMAT_VERSION) throw new CorruptSavepointError(`data file format version ${head[4]} is not ${FORMAT_VERSION}`, path, 4);
    let checksum = crc32(head);
    let position = HEADER_SIZE;
    if (!whole) {
      const first = file.index.find((e) => e.keyGroup >= range.start);
      if (!first || first.keyGroup > range.end) return;
      position = first.offset;
    }
    let entries = 0;
    const blockHead = Buffer.alloc(BLOCK_HEADER_SIZE);
    while (position < size) {
      if (position + BLOCK_HEADER_SIZE > size) throw new CorruptSavepointError('truncated block header', path, position);
      await readExactly(handle, blockHead, position, path);
      const length = blockHead.readUInt32BE(0);
      const expected = blockHead.readUInt32BE(4);
      const count = blockHead.readUInt32BE(8);
      if (length > MAX_BLOCK_SIZE || position + BLOCK_HEADER_SIZE + length > size) {
        throw new CorruptSavepointError(`block claims ${length} bytes, past the end of the file`, path, position);
      }
      const payload = new Uint8Array(length);
      await readExactly(handle, payload, position + BLOCK_HEADER_SIZE, path);
      const actual = crc32(payload);
      if (actual !== expected) throw new CorruptSavepointError('block checksum mismatch: the data is damaged', path, position);
      if (whole) checksum = crc32(payload, crc32(blockHead, checksum));
      const block = decodeBlock(payload, count, path, position + BLOCK_HEADER_SIZE);
      position += BLOCK_HEADER_SIZE + length;
      entries += count;
      if (!whole) {
        const kg = block[0]?.keyGroup ?? -1;
        if (kg > range.end) return;
        if (kg < range.start) continue;
      }
      yield block;
    }
    if (whole) {
      if (entries !== file.entries) throw new CorruptSavepointError(`file holds ${entries} entries, the metadata says ${file.entries}`, path, size);
      if (checksum !== file.checksum) throw new CorruptSavepointError('file checksum mismatch: the file is not the one the metadata describes', path, 0);
    }
  } finally {
    await handle.close();
  }
}

async function readExactly(handle: FileHandle, into: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new CorruptSavepointError('unexpected end of file', path, position + done);
    done += bytesRead;
  }
}

function decodeBlock(payload: Uint8Array, count: number, path: string, base: number): RawEntry[] {
  const input = new DataInput(payload);
  const entries: RawEntry[] = new Array(count);
  try {
    let keyGroup = -1;
    for (let i = 0; i < count; i++) {
      const state = input.readVarUint();
      const kg = input.readVarUint();
      if (keyGroup !== -1 && kg !== keyGroup) throw new DecodeError('a block mixes key groups', input.offset);
      keyGroup = kg;
      entries[i] = {
        state,
        keyGroup: kg,
        key: input.readRaw(input.readLength('a key')),
        namespace: readView(input),
        mapKey: readView(input),
        version: input.readVarUint(),
        value: input.readRaw(input.readLength('a value')),
      };
    }
    input.expectEnd('a block');
  } catch (error) {
    if (error instanceof DecodeError) throw new CorruptSavepointError(`cannot decode entries: ${error.message}`, path, base + error.offset, { cause: error });
    throw error;
  }
  return entries;
}

function readView(input: DataInput): Uint8Array {
  const n = input.readLength('bytes');
  return n === 0 ? EMPTY : input.readRaw(n);
}
