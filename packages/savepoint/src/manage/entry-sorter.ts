/**
 * Sorting entries by key group in bounded memory: entries are packed into a buffer up to a byte
 * budget, each full buffer is sorted (stably, so list elements keep their order) and spilled as a run (a data
 * file in a temporary directory), and the runs are merged a block at a time. Groups (operators)
 * share one budget and sort separately. A caller may give a finer order (within key groups).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataInput, DataOutput } from '@stateshift/core';
import { readDataFileBlocks, DataFileWriter, type RawEntry } from '../data-file.js';
import type { DataFileMetadata } from '../metadata.js';

/** Default memory for buffered entries (their bytes, packed, plus a few bytes of index each). */
export const DEFAULT_SORT_BUFFER_BYTES = 32 * 1024 * 1024;
const INDEX_BYTES = 16;
const RANK_BYTES = 8;

/**
 * A finer order of entries within a key group (runs are data files, which hold key groups in
 * ascending order): by a number first, then by a comparison. Ties keep the order entries were added in.
 */
export interface EntryOrder {
  /** A number per entry (a hash, say) that decides most comparisons: cheap to compare, unlike bytes. */
  rank(entry: RawEntry): number;
  /** The order of entries of one key group and rank. */
  compare(a: RawEntry, b: RawEntry): number;
}

/** Throws a TypeError for a `sortBufferBytes` that is not a whole number of bytes above 0 (callers check it before they write anything). */
export function checkSortBudget(budgetBytes: number): void {
  if (!(Number.isSafeInteger(budgetBytes) && budgetBytes > 0)) throw new TypeError(`sortBufferBytes must be a whole number of bytes above 0, got ${String(budgetBytes)}`);
}

/** Buffered entries of one group: packed one after another, with their offsets, key groups and ranks (with an order). */
interface Pending {
  out: DataOutput;
  offsets: number[];
  keyGroups: number[];
  ranks: number[];
}

export class EntrySorter {
  private readonly pending = new Map<number, Pending>();
  private readonly runs = new Map<number, DataFileMetadata[]>();
  private buffered = 0;
  private dir: string | undefined;
  private spills = 0;

  constructor(
    private readonly maxParallelism: number,
    private readonly budgetBytes = DEFAULT_SORT_BUFFER_BYTES,
    private readonly order?: EntryOrder,
  ) {
    checkSortBudget(budgetBytes);
  }

  /** Adds an entry of `group` (its bytes are copied); returns a promise when the buffer was spilled (await it). */
  add(group: number, entry: RawEntry): Promise<void> | undefined {
    let p = this.pending.get(group);
    if (!p) this.pending.set(group, (p = { out: new DataOutput(64 * 1024), offsets: [], keyGroups: [], ranks: [] }));
    const before = p.out.length;
    p.offsets.push(before);
    p.keyGroups.push(entry.keyGroup);
    // Ranked now, while the entry is at hand: ranking at sort time would decode every entry again.
    if (this.order) p.ranks.push(this.order.rank(entry));
    const out = p.out;
    out.writeVarUint(entry.state);
    out.writeBytes(entry.key);
    out.writeBytes(entry.namespace);
    out.writeBytes(entry.mapKey);
    out.writeVarUint(entry.version);
    out.writeBytes(entry.value);
    this.buffered += out.length - before + INDEX_BYTES + (this.order ? RANK_BYTES : 0);
    return this.buffered >= this.budgetBytes ? this.spill() : undefined;
  }

  /** The groups that received entries, in ascending order. */
  groups(): number[] {
    return [...new Set([...this.pending.keys(), ...this.runs.keys()])].sort((a, b) => a - b);
  }

  /** Every entry of `group` in key-group order (or the sorter's order; stable), a block at a time. */
  async *sorted(group: number): AsyncGenerator<RawEntry[]> {
    const p = this.pending.get(group);
    this.pending.delete(group);
    const buffered = p ? sortedBlocks(p, this.order) : undefined;
    const runs = this.runs.get(group) ?? [];
    if (!runs.length) {
      if (buffered) yield* buffered;
      return;
    }
    // Runs in the order they were written, then the buffer (the newest): ties keep that order.
    const sources = [...runs.map((r) => readDataFileBlocks(this.dir!, r)), ...(buffered ? [buffered] : [])];
    const heads: { block: RawEntry[]; at: number; source: Iterator<RawEntry[]> | AsyncIterator<RawEntry[]> }[] = [];
    for (const source of sources) {
      const first = await source.next();
      if (!first.done) heads.push({ block: first.value, at: 0, source });
    }
    const out: RawEntry[] = [];
    const order = this.order;
    const before = (a: RawEntry, b: RawEntry) =>
      a.keyGroup !== b.keyGroup ? a.keyGroup < b.keyGroup : !!order && (order.rank(a) - order.rank(b) || order.compare(a, b)) < 0;
    while (heads.length) {
      // The first source wins ties: runs were written in the order their entries were added.
      let min = 0;
      for (let i = 1; i < heads.length; i++) if (before(heads[i].block[heads[i].at], heads[min].block[heads[min].at])) min = i;
      const head = heads[min];
      out.push(head.block[head.at++]);
      if (head.at === head.block.length) {
        const next = await head.source.next();
        if (next.done) heads.splice(min, 1);
        else {
          head.block = next.value;
          head.at = 0;
        }
      }
      if (out.length >= BLOCK) yield out.splice(0);
    }
    if (out.length) yield out;
  }

  /** Removes the spilled runs. */
  async dispose(): Promise<void> {
    this.pending.clear();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private async spill(): Promise<void> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'stateshift-sort-'));
    const range = { start: 0, end: this.maxParallelism - 1 };
    for (const [group, p] of this.pending) {
      const writer = await DataFileWriter.create(this.dir, `run-${this.spills++}.dat`, 0, range);
      try {
        for (const block of sortedBlocks(p, this.order)) {
          for (const entry of block) {
            const flushing = writer.append(entry);
            if (flushing) await flushing;
          }
        }
        const runs = this.runs.get(group) ?? [];
        this.runs.set(group, runs);
        runs.push(await writer.close());
      } catch (error) {
        await writer.abort();
        throw error;
      }
    }
    this.pending.clear();
    this.buffered = 0;
  }
}

const BLOCK = 4096;
const EMPTY = new Uint8Array(0);

/**
 * The packed entries in key-group order, or in `order` (stable: by position on ties), decoded a block
 * at a time as views. By key group alone the order is found from the key groups without decoding.
 */
function* sortedBlocks(p: Pending, order?: EntryOrder): Generator<RawEntry[]> {
  const bytes = p.out.peek();
  const view = (input: DataInput) => {
    const n = input.readVarUint();
    return n === 0 ? EMPTY : input.readRaw(n);
  };
  const entryAt = (index: number): RawEntry => {
    const input = new DataInput(bytes.subarray(p.offsets[index]));
    const state = input.readVarUint();
    const key = view(input);
    const namespace = view(input);
    const mapKey = view(input);
    const version = input.readVarUint();
    return { state, keyGroup: p.keyGroups[index], key, namespace, mapKey, version, value: view(input) };
  };
  const indexes = Uint32Array.from(p.keyGroups.keys());
  const { keyGroups } = p;
  if (order) {
    // Entries are decoded on a tie only, never all held at once: a buffer's worth of decoded entries
    // (views) would take many times the budget.
    const { ranks } = p;
    indexes.sort((a, b) => keyGroups[a] - keyGroups[b] || ranks[a] - ranks[b] || order.compare(entryAt(a), entryAt(b)) || a - b);
  } else {
    indexes.sort((a, b) => keyGroups[a] - keyGroups[b] || a - b);
  }
  for (let i = 0; i < indexes.length; i += BLOCK) {
    const block: RawEntry[] = [];
    for (const index of indexes.subarray(i, i + BLOCK)) block.push(entryAt(index));
    yield block;
  }
}
