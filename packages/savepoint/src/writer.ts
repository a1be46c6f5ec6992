/**
 * Writing a savepoint: data files first, `_metadata` last and atomically (temporary file, fsync,
 * rename, fsync of the directory). Until the commit the directory is not a savepoint.
 */
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checkMaxParallelism, type KeyGroupRange } from '@stateshift/core';
import { DataFileWriter, type RawEntry } from './data-file.js';
import { dataFileName, METADATA_FILE } from './format.js';
import { normalizeRanges } from './key-group-ranges.js';
import { encodeMetadata, type DataFileMetadata, type OperatorMetadata, type SavepointMetadata } from './metadata.js';

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
  private done = false;

  private constructor(
    readonly dir: string,
    readonly layout: SavepointLayout,
  ) {}

  /** Starts a savepoint in `dir`, which must not exist or be empty. */
  static async create(dir: string, layout: SavepointLayout): Promise<SavepointWriter> {
    checkMaxParallelism(layout.maxParallelism);
    const uids = new Set<string>();
    for (const op of layout.operators) {
      if (uids.has(op.uid)) throw new TypeError(`savepoint layout names operator "${op.uid}" twice`);
      uids.add(op.uid);
    }
    await mkdir(dir, { recursive: true });
    const existing = await readdir(dir);
    if (existing.length) throw new TypeError(`cannot write a savepoint into ${dir}: the directory is not empty`);
    return new SavepointWriter(dir, layout);
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
    const writer = await DataFileWriter.create(this.dir, dataFileName(operator, range.start, range.end, part), operator, range);
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

  /** Records a data file written elsewhere into this directory (by a worker thread). */
  addFile(meta: DataFileMetadata): void {
    this.checkOpen();
    this.ranges.push(meta.range);
    if (meta.entries > 0) this.files.push(meta);
  }

  /** Writes `_metadata` atomically; the savepoint is complete when this resolves. */
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
    // Empty files hold nothing worth keeping.
    await writeFileAtomically(this.dir, METADATA_FILE, encodeMetadata(metadata));
    return metadata;
  }

  /** Gives up: removes the directory's contents written so far. */
  async abort(): Promise<void> {
    this.done = true;
    await Promise.all([...this.open].map((w) => w.abort()));
    await rm(this.dir, { recursive: true, force: true });
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
  dir: string,
  layout: SavepointLayout,
  range: KeyGroupRange,
  operators: { uid: string; entries: RawEntry[] }[],
): Promise<SavepointMetadata> {
  const writer = await SavepointWriter.create(dir, { ...layout, keyGroupRanges: layout.keyGroupRanges ?? [range] });
  try {
    for (const { uid, entries } of operators) {
      if (!entries.length) continue;
      entries.sort((a, b) => a.keyGroup - b.keyGroup);
      const file = await writer.openDataFile(uid, range);
      for (const entry of entries) {
        const flushing = file.append(entry);
        if (flushing) await flushing;
      }
      await writer.closeDataFile(file);
    }
    return await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Temporary file, fsync, rename over the target, fsync the directory. */
export async function writeFileAtomically(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, `.${name}.tmp-${process.pid}-${Date.now()}`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, join(dir, name));
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
