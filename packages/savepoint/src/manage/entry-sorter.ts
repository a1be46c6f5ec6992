/**
 * Sorting entries by key group in bounded memory: entries are buffered up to a byte budget, each
 * full buffer is sorted (stably, so list elements keep their order) and spilled as a run (a data
 * file in a temporary directory), and the runs are merged a block at a time. Groups (operators)
 * share one budget and sort separately.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataFileBlocks, DataFileWriter, type RawEntry } from '../data-file.js';
import type { DataFileMetadata } from '../metadata.js';

/** Default memory for buffered entries (estimated, object overhead included). */
export const DEFAULT_SORT_BUFFER_BYTES = 64 * 1024 * 1024;
const ENTRY_OVERHEAD = 160;

const own = (b: Uint8Array) => (b.byteLength === b.buffer.byteLength || b.byteLength === 0 ? b : b.slice());

export class EntrySorter {
  private readonly buffers = new Map<number, RawEntry[]>();
  private readonly runs = new Map<number, DataFileMetadata[]>();
  private buffered = 0;
  private dir: string | undefined;
  private spills = 0;

  constructor(
    private readonly maxParallelism: number,
    private readonly budgetBytes = DEFAULT_SORT_BUFFER_BYTES,
  ) {}

  /** Adds an entry of `group`; returns a promise when the buffer was spilled (await it). */
  add(group: number, entry: RawEntry): Promise<void> | undefined {
    const copy = { ...entry, key: own(entry.key), namespace: own(entry.namespace), mapKey: own(entry.mapKey), value: own(entry.value) };
    let buffer = this.buffers.get(group);
    if (!buffer) this.buffers.set(group, (buffer = []));
    buffer.push(copy);
    this.buffered += ENTRY_OVERHEAD + copy.key.length + copy.namespace.length + copy.mapKey.length + copy.value.length;
    return this.buffered >= this.budgetBytes ? this.spill() : undefined;
  }

  /** The groups that received entries, in ascending order. */
  groups(): number[] {
    return [...new Set([...this.buffers.keys(), ...this.runs.keys()])].sort((a, b) => a - b);
  }

  /** Every entry of `group` in key-group order (stable), a block at a time. */
  async *sorted(group: number): AsyncGenerator<RawEntry[]> {
    const buffer = sortStable(this.buffers.get(group) ?? []);
    this.buffers.delete(group);
    const runs = this.runs.get(group) ?? [];
    if (!runs.length) {
      if (buffer.length) yield buffer;
      return;
    }
    // Runs in the order they were written, then the buffer (the newest): ties keep that order.
    const sources = [...runs.map((r) => readDataFileBlocks(this.dir!, r)), (async function* () { if (buffer.length) yield buffer; })()];
    const heads: { block: RawEntry[]; at: number; source: AsyncGenerator<RawEntry[]> }[] = [];
    for (const source of sources) {
      const first = await source.next();
      if (!first.done) heads.push({ block: first.value, at: 0, source });
    }
    const out: RawEntry[] = [];
    while (heads.length) {
      let min = 0;
      for (let i = 1; i < heads.length; i++) if (heads[i].block[heads[i].at].keyGroup < heads[min].block[heads[min].at].keyGroup) min = i;
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
      if (out.length >= 4096) yield out.splice(0);
    }
    if (out.length) yield out;
  }

  /** Removes the spilled runs. */
  async dispose(): Promise<void> {
    this.buffers.clear();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private async spill(): Promise<void> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'stateshift-sort-'));
    const range = { start: 0, end: this.maxParallelism - 1 };
    for (const [group, buffer] of this.buffers) {
      if (!buffer.length) continue;
      const writer = await DataFileWriter.create(this.dir, `run-${this.spills++}.dat`, 0, range);
      try {
        for (const entry of sortStable(buffer)) {
          const flushing = writer.append(entry);
          if (flushing) await flushing;
        }
        const runs = this.runs.get(group) ?? [];
        this.runs.set(group, runs);
        runs.push(await writer.close());
      } catch (error) {
        await writer.abort();
        throw error;
      }
    }
    this.buffers.clear();
    this.buffered = 0;
  }
}

function sortStable(entries: RawEntry[]): RawEntry[] {
  // Array.prototype.sort is stable.
  return entries.sort((a, b) => a.keyGroup - b.keyGroup);
}
