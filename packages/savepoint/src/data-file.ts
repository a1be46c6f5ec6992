/**
 * Data files: entries in checksummed blocks, one key group per block, written and read as streams.
 * The writer encodes blocks straight into large chunks and checksums each byte once; the reader
 * verifies every block (that it is intact, and that it belongs to this file at this offset) before
 * any of its entries is yielded.
 */
import { randomBytes } from 'node:crypto';
import { CorruptSavepointError, keyGroupInRange, putVarUint, type KeyGroupRange } from '@stateshift/core';
import { EntryCursor, type EntryBlock } from './entry-cursor.js';
import { crc32 } from './crc32.js';
import { BLOCK_HEADER_SIZE, DATA_MAGIC, FILE_ID_SIZE, FORMAT_VERSION, headerSize, MAX_BLOCK_SIZE, TARGET_BLOCK_SIZE } from './format.js';
import type { DataFileMetadata, KeyGroupOffset } from './metadata.js';
import { storageFor, type SavepointLocation, type StorageOptions } from './storage/resolve.js';
import type { ObjectHandle, ObjectSink } from './storage/storage.js';

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

const EMPTY: Uint8Array = new Uint8Array(0);
/** Bytes handed to storage at a time. */
const CHUNK_SIZE = 1 << 20;

/** The checksum of a format-2 block: file id, block offset, length and count, then the payload. */
function blockChecksum(idSeed: number, offset: number, length: number, count: number, payload: Uint8Array): number {
  const head = new DataView(new ArrayBuffer(16));
  head.setUint32(0, Math.floor(offset / 0x1_0000_0000));
  head.setUint32(4, offset >>> 0);
  head.setUint32(8, length);
  head.setUint32(12, count);
  return crc32(payload, crc32(new Uint8Array(head.buffer), idSeed));
}

function writeBytes(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n === 0) {
    buf[pos] = 0;
    return pos + 1;
  }
  pos = n < 0x80 ? ((buf[pos] = n), pos + 1) : putVarUint(buf, pos, n);
  if (n <= 16) for (let i = 0; i < n; i++) buf[pos + i] = bytes[i];
  else buf.set(bytes, pos);
  return pos + n;
}

export interface DataFileWriterOptions extends StorageOptions {
  /** The file id; random by default (tests give one to write reproducible bytes). */
  id?: Uint8Array;
}

export class DataFileWriter {
  private chunk: Uint8Array = new Uint8Array(CHUNK_SIZE);
  private pos: number;
  /** File offset of `chunk[0]`. */
  private flushed = 0;
  /** Where the open block's header starts in `chunk`; its payload follows. */
  private blockStart = 0;
  private blockEntries = 0;
  private blockKeyGroup = -1;
  private lastKeyGroup = -1;
  private readonly idSeed: number;
  private checksum = 0;
  private entries = 0;
  private readonly index: KeyGroupOffset[] = [];
  private readonly stateTotals: { entries: number; bytes: number }[] = [];
  private writing: Promise<void> | undefined;
  private readonly cursor = new EntryCursor();
  /** Chunks written and released by the sink, to fill again. */
  private readonly spare: Uint8Array[] = [];
  private failure: unknown;
  private closed = false;
  /** The file is complete (closed without error): nothing removes it any more. */
  private done = false;

  private constructor(
    private readonly sink: ObjectSink,
    private readonly path: string,
    readonly name: string,
    readonly operator: number,
    readonly range: KeyGroupRange,
    readonly id: Uint8Array,
  ) {
    this.idSeed = crc32(id);
    this.chunk.set(DATA_MAGIC);
    this.chunk[4] = FORMAT_VERSION;
    this.chunk.set(id, 5);
    this.pos = headerSize(FORMAT_VERSION);
  }

  /** Creates `name` at the location; it must not exist yet. */
  static async create(location: SavepointLocation, name: string, operator: number, range: KeyGroupRange, options: DataFileWriterOptions = {}): Promise<DataFileWriter> {
    const storage = storageFor(location, options);
    const id = options.id ?? randomBytes(FILE_ID_SIZE);
    if (id.length !== FILE_ID_SIZE) throw new TypeError(`a data file id has ${FILE_ID_SIZE} bytes`);
    const sink = await storage.create(name);
    return new DataFileWriter(sink, storage.objectPath(name), name, operator, range, new Uint8Array(id));
  }

  /**
   * Adds an entry. Key groups must not decrease within a file. Returns a promise only when the
   * writer must wait for storage; await it before the next append.
   */
  append(entry: RawEntry): Promise<void> | undefined {
    const { state, version, key, namespace, mapKey, value } = entry;
    if (state >>> 0 !== state || version >>> 0 !== version) throw new RangeError(`data file ${this.name}: state index ${state} and schema version ${version} must be 32-bit unsigned integers`);
    const waiting = this.beginEntry(entry.keyGroup, 40 + key.length + namespace.length + mapKey.length + value.length);
    const buf = this.chunk;
    let pos = putVarUint(buf, this.pos, state);
    pos = putVarUint(buf, pos, entry.keyGroup);
    pos = writeBytes(buf, pos, key);
    pos = writeBytes(buf, pos, namespace);
    pos = writeBytes(buf, pos, mapKey);
    pos = putVarUint(buf, pos, version);
    pos = writeBytes(buf, pos, value);
    this.endEntry(pos, state, value.length);
    return waiting;
  }

  /**
   * Adds entries given as the bytes a block holds for them, back to back in `bytes[start, end)` (the
   * layout EntryCursor reads): a producer that frames its entries itself (the heap backend, in a
   * buffer of its own) hands them over without a view or an object per entry. The entries are
   * parsed, not trusted, and all of them are checked before any is added: bytes that are not whole
   * entries give a TypeError, key groups out of range or order a RangeError, and add nothing.
   * Returns a promise when the writer must wait for storage, as `append` does.
   */
  appendEncoded(bytes: Uint8Array, start: number, end: number): Promise<void> | undefined {
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= bytes.length)) {
      throw new RangeError(`data file ${this.name}: bytes ${start}-${end} are not within the ${bytes.length} bytes given`);
    }
    if (this.closed || this.failure) throw this.failure ?? new TypeError(`data file ${this.name} is closed`);
    const cursor = this.cursor;
    let count = 0;
    let keyGroup = this.lastKeyGroup;
    for (let at = start; at < end; at = cursor.end, count++) {
      try {
        cursor.entryAt(bytes, at, end, 'the bytes given');
      } catch (error) {
        throw new TypeError(`data file ${this.name}: appendEncoded(bytes, ${start}, ${end}) was not given whole encoded entries (${(error as Error).message})`);
      }
      this.checkKeyGroup(cursor.keyGroup, keyGroup);
      keyGroup = cursor.keyGroup;
    }
    let waiting: Promise<void> | undefined;
    for (let at = start; at < end; at = cursor.end) {
      // The cursor still holds a lone entry; several are read again.
      if (count > 1) cursor.entryAt(bytes, at, end, 'the bytes given');
      const n = cursor.end - at;
      waiting = this.beginEntry(cursor.keyGroup, n) ?? waiting;
      const buf = this.chunk;
      const pos = this.pos;
      if (n <= 64) for (let i = 0; i < n; i++) buf[pos + i] = bytes[at + i];
      else buf.set(bytes.subarray(at, at + n), pos);
      this.endEntry(pos + n, cursor.state, cursor.valueEnd - cursor.valueStart);
    }
    return waiting;
  }

  /** Makes room for an entry of at most `size` bytes in key group `kg`, opening a block if none is. */
  private beginEntry(kg: number, size: number): Promise<void> | undefined {
    if (this.closed || this.failure) throw this.failure ?? new TypeError(`data file ${this.name} is closed`);
    if (kg !== this.blockKeyGroup || this.blockEntries === 0) this.enterKeyGroup(kg);
    const need = BLOCK_HEADER_SIZE + size;
    let waiting: Promise<void> | undefined;
    if (this.pos + need > this.chunk.length) waiting = this.handOff(need);
    if (this.blockEntries === 0) {
      this.blockStart = this.pos;
      this.pos += BLOCK_HEADER_SIZE;
      if (kg !== this.lastKeyGroup) {
        this.index.push({ keyGroup: kg, offset: this.flushed + this.blockStart });
        this.lastKeyGroup = kg;
      }
    }
    return waiting;
  }

  /** Counts the entry that ends at `pos`, and ends the block once it is full. */
  private endEntry(pos: number, state: number, valueLength: number): void {
    this.pos = pos;
    this.blockEntries++;
    this.entries++;
    const totals = this.stateTotals[state] ?? this.newTotals(state);
    totals.entries++;
    totals.bytes += valueLength;
    if (pos - this.blockStart >= TARGET_BLOCK_SIZE + BLOCK_HEADER_SIZE) this.finishBlock();
  }

  /** Checks a key group that differs from the open block's, and ends that block. */
  private enterKeyGroup(kg: number): void {
    this.checkKeyGroup(kg, this.lastKeyGroup);
    if (this.blockEntries > 0) this.finishBlock();
    this.blockKeyGroup = kg;
  }

  /** Refuses a key group outside the file's range, or one that comes after a greater one. */
  private checkKeyGroup(kg: number, after: number): void {
    if (!keyGroupInRange(kg, this.range)) {
      throw new RangeError(`key group ${kg} is outside the range ${this.range.start}-${this.range.end} of data file ${this.name}`);
    }
    if (kg < after) throw new RangeError(`entries of data file ${this.name} must come in key-group order: ${kg} after ${after}`);
  }

  private newTotals(state: number): { entries: number; bytes: number } {
    for (let i = this.stateTotals.length; i < state; i++) this.stateTotals[i] = { entries: 0, bytes: 0 };
    return (this.stateTotals[state] = { entries: 0, bytes: 0 });
  }

  /** Fills in the open block's header: length, checksum, count. */
  private finishBlock(): void {
    const start = this.blockStart;
    const payload = this.chunk.subarray(start + BLOCK_HEADER_SIZE, this.pos);
    const sum = blockChecksum(this.idSeed, this.flushed + start, payload.length, this.blockEntries, payload);
    const view = new DataView(this.chunk.buffer, start, BLOCK_HEADER_SIZE);
    view.setUint32(0, payload.length);
    view.setUint32(4, sum);
    view.setUint32(8, this.blockEntries);
    this.checksum = crc32(new Uint8Array(view.buffer, start + 4, 4), this.checksum);
    this.blockEntries = 0;
  }

  /**
   * Hands the finished bytes of the chunk to storage and carries the open block (if any) into a new
   * chunk with room for `need` more bytes. Returns the previous write when it is still running.
   */
  private handOff(need: number): Promise<void> | undefined {
    const keep = this.blockEntries > 0 ? this.blockStart : this.pos;
    const carried = this.chunk.subarray(keep, this.pos);
    const size = Math.max(CHUNK_SIZE, carried.length + need);
    // A chunk whose write is done is filled again (no new memory to zero and fault in), where the sink allows.
    const spare = this.spare.pop();
    const next = spare && spare.length >= size ? spare : new Uint8Array(size);
    next.set(carried);
    const waiting = this.write(this.chunk.subarray(0, keep));
    this.chunk = next;
    this.flushed += keep;
    this.pos = carried.length;
    this.blockStart = 0;
    return waiting;
  }

  /** Queues a write behind the previous one; returns the previous one if it is still running. */
  private write(bytes: Uint8Array): Promise<void> | undefined {
    if (!bytes.length) return undefined;
    const previous = this.writing;
    const next = (previous ?? Promise.resolve()).then(async () => {
      await this.sink.write(bytes);
      if (this.sink.releasesChunks && bytes.buffer.byteLength === CHUNK_SIZE && this.spare.length < 2) this.spare.push(new Uint8Array(bytes.buffer));
    });
    next.catch((error) => {
      this.failure ??= error;
    });
    const current = next.finally(() => {
      if (this.writing === current) this.writing = undefined;
    });
    current.catch(() => undefined);
    this.writing = current;
    return previous;
  }

  /** Writes the last block, makes the file durable, and returns its metadata. */
  async close(): Promise<DataFileMetadata> {
    if (this.closed) throw new TypeError(`data file ${this.name} is already closed`);
    this.closed = true;
    if (this.blockEntries > 0) this.finishBlock();
    this.write(this.chunk.subarray(0, this.pos));
    const size = this.flushed + this.pos;
    this.chunk = EMPTY;
    await this.writing;
    if (this.failure) throw this.failure;
    await this.sink.close();
    this.done = true;
    return {
      name: this.name,
      operator: this.operator,
      range: this.range,
      entries: this.entries,
      size,
      checksum: this.checksum,
      id: this.id,
      index: this.index,
      stateTotals: this.stateTotals,
    };
  }

  /** Gives up after a failure: removes the file this writer created. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.closed = true;
    await this.writing?.catch(() => undefined);
    await this.sink.abort().catch(() => undefined);
  }

  get filePath(): string {
    return this.path;
  }
}

export interface ReadOptions extends StorageOptions {
  /** Only entries of these key groups (uses the file's key-group index to skip the rest). */
  range?: KeyGroupRange;
  /**
   * The caller keeps nothing of a block once it asks for the next one: blocks may lie in memory
   * that is read into again (a restore that copies each entry onwards makes no garbage per chunk).
   */
  transient?: boolean;
}

/** Bytes of an object range, taken in pieces of any size (views where a chunk holds them). */
class ByteReader {
  private chunk: Uint8Array = EMPTY;
  private at = 0;
  private readonly chunks: AsyncIterator<Uint8Array>;

  constructor(
    source: AsyncIterable<Uint8Array>,
    public position: number,
    private readonly path: string,
  ) {
    this.chunks = source[Symbol.asyncIterator]();
  }

  async take(n: number): Promise<Uint8Array> {
    if (this.chunk.length - this.at >= n) {
      const view = this.chunk.subarray(this.at, this.at + n);
      this.at += n;
      this.position += n;
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.at === this.chunk.length) {
        const next = await this.chunks.next();
        if (next.done) throw new CorruptSavepointError('unexpected end of file', this.path, this.position + filled);
        this.chunk = next.value;
        this.at = 0;
      }
      const m = Math.min(n - filled, this.chunk.length - this.at);
      out.set(this.chunk.subarray(this.at, this.at + m), filled);
      this.at += m;
      filled += m;
    }
    this.position += n;
    return out;
  }

  async close(): Promise<void> {
    await this.chunks.return?.();
  }
}

/** Reads and checks a data file's header; returns its format version. */
async function readHeader(handle: ObjectHandle, file: DataFileMetadata, path: string): Promise<number> {
  const reader = new ByteReader(handle.read(0, Math.min(handle.size, headerSize(FORMAT_VERSION))), 0, path);
  try {
    const head = await reader.take(5);
    if (!DATA_MAGIC.every((b, i) => head[i] === b)) throw new CorruptSavepointError('not a stateshift data file (wrong magic bytes)', path, 0);
    const version = head[4];
    if (version < 1 || version > FORMAT_VERSION) throw new CorruptSavepointError(`data file format version ${version} is not one this release reads (1 to ${FORMAT_VERSION})`, path, 4);
    if ((version === 1) !== (file.id.length === 0)) throw new CorruptSavepointError(`a format-${version} data file where the metadata describes another format: not the file the metadata names`, path, 4);
    if (version >= 2) {
      const id = await reader.take(FILE_ID_SIZE);
      if (!id.every((b, i) => b === file.id[i])) throw new CorruptSavepointError('the file id differs from the one in the metadata: not the file the metadata names (from another savepoint?)', path, 5);
    }
    return version;
  } finally {
    await reader.close();
  }
}

/**
 * Verified blocks of `[start, end)`, which must begin and end at block boundaries. `whole` also
 * checks the entry count and the file checksum at the end.
 */
async function* scanBlocks(handle: ObjectHandle, file: DataFileMetadata, path: string, version: number, start: number, end: number, whole: boolean, reuse = false): AsyncGenerator<EntryBlock> {
  const reader = new ByteReader(handle.read(start, end, { reuse }), start, path);
  const idSeed = crc32(file.id);
  try {
    let checksum = 0;
    if (start === 0) {
      const head = await reader.take(headerSize(version));
      if (version === 1) checksum = crc32(head);
    }
    let entries = 0;
    while (reader.position < end) {
      const at = reader.position;
      if (at + BLOCK_HEADER_SIZE > end) throw new CorruptSavepointError('truncated block header', path, at);
      // A copy: with reused chunks, a large payload read next may overwrite the chunk the header lay in.
      const head = (await reader.take(BLOCK_HEADER_SIZE)).slice();
      const view = new DataView(head.buffer, head.byteOffset, BLOCK_HEADER_SIZE);
      const length = view.getUint32(0);
      const expected = view.getUint32(4);
      const count = view.getUint32(8);
      if (length > MAX_BLOCK_SIZE || at + BLOCK_HEADER_SIZE + length > end) {
        throw new CorruptSavepointError(`block claims ${length} bytes, past the end of the ${whole ? 'file' : 'key-group range'}`, path, at);
      }
      if (count > length) throw new CorruptSavepointError(`block claims ${count} entries in ${length} bytes`, path, at);
      const payload = await reader.take(length);
      checkBlock(version, idSeed, at, length, count, expected, payload, path);
      checksum = version === 1 ? crc32(payload, crc32(head, checksum)) : crc32(head.subarray(4, 8), checksum);
      entries += count;
      yield EntryCursor.block(payload, count, at + BLOCK_HEADER_SIZE, path);
    }
    if (whole) {
      if (entries !== file.entries) throw new CorruptSavepointError(`file holds ${entries} entries, the metadata says ${file.entries}`, path, end);
      if (checksum !== file.checksum) throw new CorruptSavepointError('file checksum mismatch: the file is not the one the metadata describes', path, 0);
    }
  } finally {
    await reader.close();
  }
}

/**
 * Reads a data file block by block, yielding each verified block (to walk with an EntryCursor).
 * Anything damaged, truncated, missing, or not the file `_metadata` names throws
 * CorruptSavepointError naming the file and offset, before the block is yielded. A format-1 file
 * (whose blocks do not name their file) is verified whole before its first block is yielded.
 */
export async function* readVerifiedBlocks(location: SavepointLocation, file: DataFileMetadata, options: ReadOptions = {}): AsyncGenerator<EntryBlock> {
  const storage = storageFor(location, options);
  const path = storage.objectPath(file.name);
  const handle = await storage.open(file.name);
  if (!handle) throw new CorruptSavepointError('data file is missing; the savepoint is incomplete or was moved without it', path);
  try {
    if (handle.size !== file.size) {
      throw new CorruptSavepointError(
        `data file is ${handle.size} bytes but the metadata says ${file.size}${handle.size < file.size ? ' (truncated)' : ''}`,
        path,
        Math.min(handle.size, file.size),
      );
    }
    const version = await readHeader(handle, file, path);
    const range = options.range;
    const whole = !range || (range.start <= file.range.start && range.end >= file.range.end);
    if (version === 1) {
      // Verify first: reading is the check.
      for await (const block of scanBlocks(handle, file, path, version, 0, file.size, true)) for (const cursor = walker.reset(block); cursor.next(); );
    }
    const reuse = options.transient ?? false;
    if (whole) {
      yield* scanBlocks(handle, file, path, version, 0, file.size, version !== 1, reuse);
      return;
    }
    const first = file.index.findIndex((e) => e.keyGroup >= range.start && e.keyGroup <= range.end);
    if (first < 0) return;
    const after = file.index.findIndex((e) => e.keyGroup > range.end);
    const end = after < 0 ? file.size : file.index[after].offset;
    for await (const block of scanBlocks(handle, file, path, version, file.index[first].offset, end, false, reuse)) {
      if (!keyGroupInRange(block.keyGroup, range)) throw new CorruptSavepointError(`a block of key group ${block.keyGroup} inside the index's range ${range.start}-${range.end}`, path);
      yield block;
    }
  } finally {
    await handle.close();
  }
}

/** As `readVerifiedBlocks`, each block's entries made as RawEntry objects (views into the block). */
export async function* readDataFileBlocks(location: SavepointLocation, file: DataFileMetadata, options: ReadOptions = {}): AsyncGenerator<RawEntry[]> {
  for await (const block of readVerifiedBlocks(location, file, options)) yield decodeBlock(block);
}

/** Walks blocks only to check them (a format-1 file read ahead). */
const walker = new EntryCursor();

/** Checks a block's checksum (format 2: it names the file and offset), else CorruptSavepointError. */
function checkBlock(version: number, idSeed: number, at: number, length: number, count: number, expected: number, payload: Uint8Array, path: string): void {
  if (version === 1) {
    if (crc32(payload) !== expected) throw new CorruptSavepointError('block checksum mismatch: the data is damaged', path, at);
  } else if (blockChecksum(idSeed, at, length, count, payload) !== expected) {
    throw new CorruptSavepointError('block checksum mismatch: the block is damaged or not the one the metadata names at this offset', path, at);
  }
}

/**
 * The verified entries of the blocks in `bytes`, which were read from `[start, start + bytes.length)`
 * of a format-2 data file and begin and end at block boundaries (a key group's range, from the
 * file's index). For readers that read synchronously (an LSM backend serving a savepoint in place);
 * the file's header must have been checked with `checkDataFileHeader`.
 */
export function decodeBlocksAt(bytes: Uint8Array, start: number, file: DataFileMetadata, path: string): RawEntry[] {
  const entries: RawEntry[] = [];
  forEachBlockAt(bytes, start, file, path, (block) => {
    for (const entry of decodeBlock(block)) entries.push(entry);
  });
  return entries;
}

/**
 * Calls `visit` with each block of `bytes` (read from `start` of a format-2 data file, beginning and
 * ending at block boundaries) after checking its header and checksum: nothing of a damaged block
 * is visited.
 */
export function forEachBlockAt(bytes: Uint8Array, start: number, file: DataFileMetadata, path: string, visit: (block: EntryBlock) => void): void {
  if (file.id.length === 0) throw new CorruptSavepointError('a format-1 data file cannot be read block by block (its blocks do not name their file); rewrite the savepoint', path, 0);
  const idSeed = crc32(file.id);
  let pos = 0;
  while (pos < bytes.length) {
    const at = start + pos;
    if (pos + BLOCK_HEADER_SIZE > bytes.length) throw new CorruptSavepointError('truncated block header', path, at);
    const view = new DataView(bytes.buffer, bytes.byteOffset + pos, BLOCK_HEADER_SIZE);
    const length = view.getUint32(0);
    const expected = view.getUint32(4);
    const count = view.getUint32(8);
    if (length > MAX_BLOCK_SIZE || pos + BLOCK_HEADER_SIZE + length > bytes.length) throw new CorruptSavepointError(`block claims ${length} bytes, past the end of the key-group range`, path, at);
    if (count > length) throw new CorruptSavepointError(`block claims ${count} entries in ${length} bytes`, path, at);
    const payload = bytes.subarray(pos + BLOCK_HEADER_SIZE, pos + BLOCK_HEADER_SIZE + length);
    checkBlock(2, idSeed, at, length, count, expected, payload, path);
    visit(EntryCursor.block(payload, count, at + BLOCK_HEADER_SIZE, path));
    pos += BLOCK_HEADER_SIZE + length;
  }
}

/** What `findEntriesAt` looks for: entries of one state under one key and namespace (and map key). */
export interface EntryMatch {
  state: number;
  key: Uint8Array;
  namespace: Uint8Array;
  /** Map state: the map key; absent: every map key (lists: every element). */
  mapKey?: Uint8Array;
}

/**
 * As `decodeBlocksAt` (every block verified first), but only the entries that match are made:
 * the others are skipped where they lie. For a point read that must not pay for a whole key group.
 */
export function findEntriesAt(bytes: Uint8Array, start: number, file: DataFileMetadata, path: string, match: EntryMatch): RawEntry[] {
  const found: RawEntry[] = [];
  const cursor = new EntryCursor();
  forEachBlockAt(bytes, start, file, path, (block) => {
    const payload = block.payload;
    // Compared where they lie: only a match makes views of its parts.
    for (cursor.reset(block); cursor.next(); ) {
      if (
        cursor.state === match.state &&
        bytesAt(payload, cursor.keyStart, cursor.keyEnd, match.key) &&
        bytesAt(payload, cursor.namespaceStart, cursor.namespaceEnd, match.namespace) &&
        (!match.mapKey || bytesAt(payload, cursor.mapKeyStart, cursor.mapKeyEnd, match.mapKey))
      ) {
        found.push(rawEntryAt(cursor));
      }
    }
  });
  return found;
}

/** Whether `bytes[start, end)` equals `target`. */
function bytesAt(bytes: Uint8Array, start: number, end: number, target: Uint8Array): boolean {
  if (end - start !== target.length) return false;
  for (let i = 0; i < target.length; i++) if (bytes[start + i] !== target[i]) return false;
  return true;
}

/** Checks a data file's header bytes (magic, version 2, the file id `_metadata` records). */
export function checkDataFileHeader(head: Uint8Array, file: DataFileMetadata, path: string): void {
  if (head.length < headerSize(FORMAT_VERSION) || !DATA_MAGIC.every((b, i) => head[i] === b)) throw new CorruptSavepointError('not a stateshift data file (wrong magic bytes)', path, 0);
  if (head[4] !== 2) throw new CorruptSavepointError(`data file format version ${head[4]} cannot be read block by block`, path, 4);
  if (!file.id.every((b, i) => head[5 + i] === b)) {
    throw new CorruptSavepointError('the file id differs from the one in the metadata: not the file the metadata names (from another savepoint?)', path, 5);
  }
}

function decodeBlock(block: EntryBlock): RawEntry[] {
  const entries: RawEntry[] = new Array(block.count);
  let i = 0;
  for (const cursor = walker.reset(block); cursor.next(); ) entries[i++] = rawEntryAt(cursor);
  return entries;
}

/** The cursor's entry as a RawEntry of views (empty parts share one empty array). */
function rawEntryAt(cursor: EntryCursor): RawEntry {
  return {
    state: cursor.state,
    keyGroup: cursor.keyGroup,
    key: cursor.key(),
    namespace: cursor.namespaceEnd === cursor.namespaceStart ? EMPTY : cursor.namespace(),
    mapKey: cursor.mapKeyEnd === cursor.mapKeyStart ? EMPTY : cursor.mapKey(),
    version: cursor.version,
    value: cursor.value(),
  };
}
