/**
 * Joining partial savepoints (written by the instances of a job, or by the ranges of a split
 * migration) into one. The parts must be of one job, one maxParallelism and one layout, and hold
 * disjoint key-group ranges; a gap is refused unless allowed (the output then stays partial).
 * Data files are copied and verified; `_metadata` is written last.
 */
import { CorruptSavepointError, RestoreError, type KeyGroupRange } from '@stateshift/core';
import { readDataFileBlocks } from '../data-file.js';
import { formatRanges, intersectRanges, normalizeRanges, subtractRanges } from '../key-group-ranges.js';
import { encodeMetadata, keyGroupRangesOf, type SavepointMetadata } from '../metadata.js';
import { openSavepoint, type Savepoint } from '../reader.js';
import type { SavepointLocation, StorageOptions } from '../storage/resolve.js';
import type { SavepointStorage } from '../storage/storage.js';
import { SavepointWriter } from '../writer.js';

export interface MergeOptions {
  /** Write a savepoint that still lacks some key groups (it says so: it is partial). */
  allowGaps?: boolean;
  /**
   * The application position to record. By default the parts' own, which must then be the same
   * (the parts of a split migration carry their source's); `null` records none.
   */
  position?: Uint8Array | null;
  /** How the parts and the output are reached when they are on object storage. */
  storage?: StorageOptions;
  /** Stops the merge at its next chunk once aborted: it fails with the signal's reason and removes what it wrote. */
  signal?: AbortSignal;
}

function layoutBytes(metadata: SavepointMetadata): string {
  return Buffer.from(encodeMetadata({ ...metadata, createdAt: 0, files: [], keyGroupRanges: undefined, position: undefined })).toString('base64');
}

/** Checks that the parts can be joined and returns the key groups the result holds. */
export function planMerge(parts: Savepoint[], options: MergeOptions = {}): KeyGroupRange[] {
  if (parts.length < 1) throw new TypeError('mergeSavepoints needs at least one savepoint');
  const [first] = parts;
  for (const part of parts.slice(1)) {
    if (part.jobName !== first.jobName || part.maxParallelism !== first.maxParallelism) {
      throw new RestoreError(
        `cannot merge ${part.dir} (job "${part.jobName}", maxParallelism ${part.maxParallelism}) with ${first.dir} (job "${first.jobName}", maxParallelism ${first.maxParallelism}): ` +
          'parts of one savepoint share their job and maxParallelism',
      );
    }
    if (layoutBytes(part.metadata) !== layoutBytes(first.metadata)) {
      throw new RestoreError(
        `cannot merge ${part.dir} with ${first.dir}: their operators, states or schema versions differ. ` +
          'Rewrite both with the same job first (rewriteSavepoint, or stateshift migrate), then merge',
      );
    }
  }
  if (options.position === undefined) {
    const text = (p: Savepoint) => {
      const hex = p.metadata.position ? Buffer.from(p.metadata.position).toString('hex') : 'none';
      return hex.length > 32 ? `${hex.slice(0, 32)}...` : hex;
    };
    const differing = parts.filter((p) => text(p) !== text(first));
    if (differing.length) {
      throw new RestoreError(
        `cannot merge: ${differing[0].dir} carries application position ${text(differing[0])} and ${first.dir} ${text(first)}; ` +
          'positions are opaque and cannot be joined: give the position the merged savepoint records (mergeSavepoints option position, or null for none; stateshift merge --drop-position)',
      );
    }
  }
  const covered: KeyGroupRange[] = [];
  for (const [i, part] of parts.entries()) {
    const ranges = keyGroupRangesOf(part.metadata);
    for (const other of parts.slice(0, i)) {
      const overlap = intersectRanges(ranges, keyGroupRangesOf(other.metadata));
      if (overlap.length) {
        throw new RestoreError(`cannot merge: ${part.dir} and ${other.dir} both hold key groups ${formatRanges(overlap)}; the parts must hold disjoint ranges`);
      }
    }
    covered.push(...ranges);
  }
  const union = normalizeRanges(covered);
  const gaps = subtractRanges([{ start: 0, end: first.maxParallelism - 1 }], union);
  if (gaps.length && !options.allowGaps) {
    throw new RestoreError(
      `the parts hold key groups ${formatRanges(union)} of 0-${first.maxParallelism - 1}: ${formatRanges(gaps)} are in none of them. ` +
        'Add the missing parts, or merge with allowGaps (stateshift merge --allow-gaps) for a savepoint that stays partial',
    );
  }
  return union;
}

/** Streams object `name` of `from` into a new object `as` of `to`. */
async function copyObject(from: SavepointStorage, name: string, to: SavepointStorage, as: string, signal?: AbortSignal): Promise<void> {
  const handle = await from.open(name);
  if (!handle) throw new CorruptSavepointError('the data file is missing (the savepoint lists it)', from.objectPath(name), 0);
  try {
    const sink = await to.create(as);
    try {
      for await (const chunk of handle.read(0, handle.size)) {
        signal?.throwIfAborted();
        await sink.write(chunk);
      }
      await sink.close();
    } catch (error) {
      await sink.abort();
      throw error;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Joins the partial savepoints in `sources` into a new savepoint in `out` (which must not exist
 * or be empty). Each may be a directory or an `s3://` location.
 */
export async function mergeSavepoints(sources: SavepointLocation[], out: SavepointLocation, options: MergeOptions = {}): Promise<SavepointMetadata> {
  const parts = await Promise.all(sources.map((s) => openSavepoint(s, options.storage)));
  const keyGroupRanges = planMerge(parts, options);
  const position = options.position === undefined ? parts[0].metadata.position : (options.position ?? undefined);
  const writer = await SavepointWriter.create(out, { ...parts[0].metadata, keyGroupRanges, position }, options.storage);
  try {
    options.signal?.throwIfAborted();
    for (const [i, part] of parts.entries()) {
      const ranges = keyGroupRangesOf(part.metadata);
      for (const file of part.metadata.files) {
        if (subtractRanges([file.range], ranges).length) {
          throw new RestoreError(`${part.storage.objectPath(file.name)} holds key groups ${formatRanges([file.range])}, but the savepoint says it holds only ${formatRanges(ranges)}`);
        }
        const copy = { ...file, name: `m${i}-${file.name}` };
        await copyObject(part.storage, file.name, writer.storage, copy.name, options.signal);
        writer.addFile(copy);
        // Reading the copy checks its size, every block, its entry count and its checksum.
        for await (const _block of readDataFileBlocks(writer.storage, copy)) options.signal?.throwIfAborted();
      }
    }
    return await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
