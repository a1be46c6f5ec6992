/** Opening a savepoint and streaming its entries, from any storage. */
import { CorruptSavepointError, keyGroupInRange, NotASavepointError, type KeyGroupRange } from '@stateshift/core';
import { readDataFileBlocks, readVerifiedBlocks, type RawEntry } from './data-file.js';
import type { EntryBlock } from './entry-cursor.js';
import { MAX_METADATA_SIZE, METADATA_FILE } from './format.js';
import { decodeMetadata, type DataFileMetadata, type OperatorMetadata, type SavepointMetadata } from './metadata.js';
import { storageFor, type SavepointLocation, type StorageOptions } from './storage/resolve.js';
import { readWhole, type SavepointStorage } from './storage/storage.js';

export interface EntryFilter {
  /** Only these key groups; files outside the range are not opened. */
  range?: KeyGroupRange;
  /** Only this state (by name). */
  state?: string;
}

export class Savepoint {
  readonly storage: SavepointStorage;

  constructor(
    location: SavepointLocation,
    readonly metadata: SavepointMetadata,
    options: StorageOptions = {},
  ) {
    this.storage = storageFor(location, options);
  }

  /** The location: a directory path or an `s3://` URL. */
  get dir(): string {
    return this.storage.location;
  }

  get jobName(): string {
    return this.metadata.jobName;
  }

  get maxParallelism(): number {
    return this.metadata.maxParallelism;
  }

  get operators(): OperatorMetadata[] {
    return this.metadata.operators;
  }

  operator(uid: string): OperatorMetadata | undefined {
    return this.metadata.operators.find((op) => op.uid === uid);
  }

  private existingOperator(uid: string): OperatorMetadata {
    const op = this.operator(uid);
    if (!op) throw new TypeError(`savepoint has no operator "${uid}"; it has ${this.operators.map((o) => `"${o.uid}"`).join(', ') || 'none'}`);
    return op;
  }

  /** The data files of an operator that hold any of `range`. */
  files(uid: string, range?: KeyGroupRange): DataFileMetadata[] {
    const index = this.metadata.operators.findIndex((op) => op.uid === uid);
    if (index < 0) return [];
    return this.metadata.files.filter(
      (f) => f.operator === index && (!range || (f.range.start <= range.end && f.range.end >= range.start)),
    );
  }

  /** The verified entries of an operator, a block at a time, in key-group order within each file. */
  async *blocks(uid: string, filter: EntryFilter = {}): AsyncGenerator<RawEntry[]> {
    const op = this.existingOperator(uid);
    let stateIndex = -1;
    if (filter.state !== undefined) {
      stateIndex = op.states.findIndex((s) => s.name === filter.state);
      if (stateIndex < 0) {
        throw new TypeError(`operator "${uid}" has no state "${filter.state}"; it has ${op.states.map((s) => `"${s.name}"`).join(', ') || 'none'}`);
      }
    }
    for (const file of this.files(uid, filter.range)) {
      // A file that records no entries of the state is not opened.
      if (stateIndex >= 0 && (file.stateTotals[stateIndex]?.entries ?? 0) === 0) continue;
      for await (const block of readDataFileBlocks(this.storage, file, { range: filter.range })) {
        const kept = block.filter((e) => (stateIndex < 0 || e.state === stateIndex) && (!filter.range || keyGroupInRange(e.keyGroup, filter.range)));
        if (kept.length) yield kept;
      }
    }
  }

  /**
   * The verified blocks of an operator holding any of `range` (each block is one key group), to walk
   * with an EntryCursor: for readers that copy entries onwards without making an object per entry.
   * `transient`: the caller keeps nothing of a block once it asks for the next (see ReadOptions).
   */
  async *entryBlocks(uid: string, range?: KeyGroupRange, options: { transient?: boolean } = {}): AsyncGenerator<EntryBlock> {
    this.existingOperator(uid);
    for (const file of this.files(uid, range)) {
      for await (const block of readVerifiedBlocks(this.storage, file, { range, transient: options.transient })) if (!range || keyGroupInRange(block.keyGroup, range)) yield block;
    }
  }

  async *entries(uid: string, filter: EntryFilter = {}): AsyncGenerator<RawEntry> {
    for await (const block of this.blocks(uid, filter)) yield* block;
  }

  /** Reads every data file whole, checking every checksum and count. */
  async verify(): Promise<void> {
    for (const file of this.metadata.files) {
      for await (const _block of readDataFileBlocks(this.storage, file)) {
        // reading is the check
      }
    }
  }

  /** Entries and value bytes stored for a state (from the metadata, no data read). */
  stateTotals(uid: string, state: string): { entries: number; bytes: number } {
    const index = this.operator(uid)?.states.findIndex((s) => s.name === state) ?? -1;
    const totals = { entries: 0, bytes: 0 };
    if (index < 0) return totals;
    for (const f of this.files(uid)) {
      totals.entries += f.stateTotals[index]?.entries ?? 0;
      totals.bytes += f.stateTotals[index]?.bytes ?? 0;
    }
    return totals;
  }
}

/**
 * Opens and verifies the metadata of the savepoint at `location` (a directory, `s3://bucket/prefix`
 * or a storage). A location without `_metadata` gives NotASavepointError saying what is there;
 * a damaged `_metadata` gives CorruptSavepointError.
 */
export async function openSavepoint(location: SavepointLocation, options: StorageOptions = {}): Promise<Savepoint> {
  const storage = storageFor(location, options);
  const path = storage.objectPath(METADATA_FILE);
  const handle = await storage.open(METADATA_FILE);
  if (!handle) throw new NotASavepointError(`${await storage.describe()}`, storage.location);
  let bytes: Uint8Array;
  try {
    if (handle.size > MAX_METADATA_SIZE) throw new CorruptSavepointError(`a metadata file of ${handle.size} bytes is past any savepoint's`, path, 0);
    bytes = await readWhole(handle);
  } finally {
    await handle.close();
  }
  return new Savepoint(storage, decodeMetadata(bytes, path));
}
