/**
 * Writing a savepoint: data files first, `_metadata` last as one atomic write (file system:
 * temporary file, fsync, rename, fsync of the directory; S3: one PUT). Until the commit the
 * location is not a savepoint. A writer holds the location's `_lock` from `create` until its
 * commit or abort, so a second writer fails at once; an abort removes only what this writer made.
 */
import { checkMaxParallelism, SavepointStorageError, type KeyGroupRange } from '@stateshift/core';
import { DataFileWriter, type RawEntry } from './data-file.js';
import { dataFileName, LOCK_FILE, METADATA_FILE } from './format.js';
import { normalizeRanges } from './key-group-ranges.js';
import { encodeMetadata, type DataFileMetadata, type OperatorMetadata, type SavepointMetadata } from './metadata.js';
import { storageFor, type SavepointLocation, type StorageOptions } from './storage/resolve.js';
import type { SavepointStorage } from './storage/storage.js';
import { writerLockHolder, writerLockText } from './writer-lock.js';

export { writeFileAtomically } from './storage/fs-storage.js';

export interface SavepointLayout {
  jobName: string;
  maxParallelism: number;
  operators: OperatorMetadata[];
  /** The application position committed with the state (opaque bytes). */
  position?: Uint8Array;
  /** The key groups the savepoint holds; default: those of the data files written (all when none). */
  keyGroupRanges?: KeyGroupRange[];
}

export class SavepointWriter {
  private readonly files: DataFileMetadata[] = [];
  private readonly open = new Set<DataFileWriter>();
  private readonly ranges: KeyGroupRange[] = [];
  /** Every object this writer made (data files, its lock), so an abort removes exactly these. */
  private readonly made = new Set<string>();
  private done = false;

  private constructor(
    readonly storage: SavepointStorage,
    readonly layout: SavepointLayout,
  ) {}

  /** The location: a directory path or an `s3://` URL. */
  get dir(): string {
    return this.storage.location;
  }

  /**
   * Starts a savepoint at `location` (a directory, `s3://bucket/prefix` or a storage), which must
   * not exist or be empty. Another writer at work there gives SavepointStorageError "in-use".
   */
  static async create(location: SavepointLocation, layout: SavepointLayout, options: StorageOptions = {}): Promise<SavepointWriter> {
    checkMaxParallelism(layout.maxParallelism);
    const uids = new Set<string>();
    for (const op of layout.operators) {
      if (uids.has(op.uid)) throw new TypeError(`savepoint layout names operator "${op.uid}" twice`);
      uids.add(op.uid);
    }
    const storage = storageFor(location, options);
    if (!(await storage.createExclusive(LOCK_FILE, new TextEncoder().encode(writerLockText())))) {
      const holder = await writerLockHolder(storage).catch(() => undefined);
      throw new SavepointStorageError(
        'in-use',
        `another savepoint writer${holder ? ` (process ${holder.pid} on ${holder.host}, since ${holder.since})` : ''} holds ${storage.objectPath(LOCK_FILE)}; ` +
          'wait for it, or if none is running (a writer was killed), remove the location and write again',
        storage.location,
      );
    }
    const writer = new SavepointWriter(storage, layout);
    writer.made.add(LOCK_FILE);
    const others = (await storage.list({ all: true })).filter((o) => o.name !== LOCK_FILE);
    if (others.length) {
      await writer.abort();
      const names = others.slice(0, 3).map((o) => JSON.stringify(o.name)).join(', ') + (others.length > 3 ? ` and ${others.length - 3} more` : '');
      const what = others.some((o) => o.name === METADATA_FILE) ? 'a savepoint is there already' : `it holds ${names}`;
      throw new SavepointStorageError('not-empty', `cannot write a savepoint here: the location is not empty (${what}); choose a new location`, storage.location);
    }
    return writer;
  }

  operatorIndex(uid: string): number {
    const index = this.layout.operators.findIndex((op) => op.uid === uid);
    if (index < 0) throw new TypeError(`operator "${uid}" is not in this savepoint's layout`);
    return index;
  }

  /**
   * Opens a data file of an operator's key-group range. Close it, then `commit()`. Give `part` to
   * write several files for one range (say one per state).
   */
  async openDataFile(uid: string, range: KeyGroupRange, part?: string): Promise<DataFileWriter> {
    this.checkOpen();
    if (range.start < 0 || range.end >= this.layout.maxParallelism || range.end < range.start) {
      throw new RangeError(`key-group range ${range.start}-${range.end} is not within 0-${this.layout.maxParallelism - 1}`);
    }
    const operator = this.operatorIndex(uid);
    this.ranges.push(range);
    const name = dataFileName(operator, range.start, range.end, part);
    const writer = await DataFileWriter.create(this.storage, name, operator, range);
    this.made.add(name);
    this.open.add(writer);
    return writer;
  }

  /** Closes a data file opened here and records it for the metadata. */
  async closeDataFile(writer: DataFileWriter): Promise<DataFileMetadata> {
    const meta = await writer.close();
    this.open.delete(writer);
    this.addFile(meta);
    return meta;
  }

  /** Records a data file written elsewhere into this location (by a worker thread). */
  addFile(meta: DataFileMetadata): void {
    this.checkOpen();
    this.ranges.push(meta.range);
    this.made.add(meta.name);
    // Empty files hold nothing worth listing.
    if (meta.entries > 0) this.files.push(meta);
  }

  /** Writes `_metadata` in one atomic write; the savepoint is complete when this resolves. */
  async commit(): Promise<SavepointMetadata> {
    this.checkOpen();
    if (this.open.size) throw new TypeError(`${this.open.size} data file(s) are still open; close them before the commit`);
    this.done = true;
    const metadata: SavepointMetadata = {
      jobName: this.layout.jobName,
      maxParallelism: this.layout.maxParallelism,
      createdAt: Date.now(),
      operators: this.layout.operators,
      files: [...this.files].sort((a, b) => a.operator - b.operator || a.range.start - b.range.start),
      ...(this.layout.position ? { position: this.layout.position } : {}),
    };
    const ranges = this.layout.keyGroupRanges ?? (this.ranges.length ? this.ranges : undefined);
    if (ranges) metadata.keyGroupRanges = normalizeRanges(ranges);
    await this.storage.commit(METADATA_FILE, encodeMetadata(metadata));
    // Committed: nothing of it may be removed any more. A lock left behind is ignored by readers.
    this.made.clear();
    await this.storage.remove(LOCK_FILE).catch(() => undefined);
    return metadata;
  }

  /** Gives up: removes the objects this writer made (and its directory, if it made it and it is empty). */
  async abort(): Promise<void> {
    this.done = true;
    await Promise.all([...this.open].map((w) => w.abort()));
    this.open.clear();
    for (const name of this.made) if (name !== LOCK_FILE) await this.storage.remove(name).catch(() => undefined);
    if (this.made.has(LOCK_FILE)) await this.storage.remove(LOCK_FILE).catch(() => undefined);
    this.made.clear();
    await this.storage.removeLocation();
  }

  private checkOpen(): void {
    if (this.done) throw new TypeError('this savepoint writer has already committed or aborted');
  }
}

/**
 * A savepoint of entries held in memory (a heap backend's cut, a bootstrap): one data file per
 * operator over `range`, entries sorted by key group (stable, so list elements keep their order).
 */
export async function writeSavepointEntries(
  location: SavepointLocation,
  layout: SavepointLayout,
  range: KeyGroupRange,
  operators: { uid: string; entries: RawEntry[] }[],
  options: StorageOptions = {},
): Promise<SavepointMetadata> {
  const writer = await SavepointWriter.create(location, { ...layout, keyGroupRanges: layout.keyGroupRanges ?? [range] }, options);
  try {
    for (const { uid, entries } of operators) {
      if (!entries.length) continue;
      entries.sort((a, b) => a.keyGroup - b.keyGroup);
      const file = await writer.openDataFile(uid, range);
      for (const entry of entries) {
        const waiting = file.append(entry);
        if (waiting) await waiting;
      }
      await writer.closeDataFile(file);
    }
    return await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
