/**
 * A new savepoint from data (Flink's State Processor API "bootstrap"): entries for a job's states,
 * each key assigned to its key group. Entries stream in any order and are sorted in bounded memory
 * (sorted runs spilled to a temporary directory, then merged), so the input may be larger than memory.
 */
import { DataOutput, keyGroupOf, storedValueSerializer, type JobDeclaration, type TtlValue } from '@stateshift/core';
import { FIRST_VERSION, layoutOfJob } from '../layout.js';
import type { SavepointMetadata } from '../metadata.js';
import { SavepointWriter } from '../writer.js';
import { EntrySorter } from './entry-sorter.js';

export interface BootstrapEntry {
  operator: string;
  state: string;
  key: unknown;
  namespace?: unknown;
  /** Map state: the map key. */
  mapKey?: unknown;
  /** Value state: the value; list state: one element; map state: the map value. */
  value: unknown;
}

export interface BootstrapOptions {
  /** The TTL timestamp of values of states with a TTL (ms since the epoch); default now. */
  now?: number;
  /** Memory for buffered entries before a sorted run is spilled to disk (estimated bytes). */
  sortBufferBytes?: number;
}

export async function bootstrapSavepoint(
  dir: string,
  job: JobDeclaration,
  data: AsyncIterable<BootstrapEntry> | Iterable<BootstrapEntry>,
  options: BootstrapOptions = {},
): Promise<SavepointMetadata> {
  const now = options.now ?? Date.now();
  const sorter = new EntrySorter(job.maxParallelism, options.sortBufferBytes);
  try {
    await sortEntries(sorter, job, data, now);
    const writer = await SavepointWriter.create(dir, layoutOfJob(job));
    try {
      for (const group of sorter.groups()) {
        const file = await writer.openDataFile(job.operators[group].uid, { start: 0, end: job.maxParallelism - 1 });
        for await (const block of sorter.sorted(group)) {
          for (const entry of block) {
            const flushing = file.append(entry);
            if (flushing) await flushing;
          }
        }
        await writer.closeDataFile(file);
      }
      return await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
  } finally {
    await sorter.dispose();
  }
}

async function sortEntries(sorter: EntrySorter, job: JobDeclaration, data: AsyncIterable<BootstrapEntry> | Iterable<BootstrapEntry>, now: number): Promise<void> {
  const out = new DataOutput(256);
  const bytes = (serialize: (o: DataOutput) => void) => {
    out.reset();
    serialize(out);
    return out.toBytes();
  };
  let n = 0;
  for await (const e of data) {
    n++;
    const op = job.operator(e.operator);
    const opIndex = op ? job.operators.indexOf(op) : -1;
    if (!op) throw new TypeError(`bootstrap entry ${n}: the job has no operator "${e.operator}"`);
    const stateIndex = op.states.findIndex((s) => s.name === e.state);
    if (stateIndex < 0) throw new TypeError(`bootstrap entry ${n}: operator "${e.operator}" has no state "${e.state}"`);
    const descriptor = op.states[stateIndex];
    const key = bytes((o) => op.keySerializer.serialize(e.key, o));
    const stored = storedValueSerializer(descriptor);
    const value = descriptor.options.ttl ? ({ value: e.value, timestamp: now } satisfies TtlValue<unknown>) : e.value;
    const spilling = sorter.add(opIndex, {
      state: stateIndex,
      keyGroup: keyGroupOf(key, job.maxParallelism),
      key,
      namespace: op.namespaceSerializer ? bytes((o) => op.namespaceSerializer!.serialize(e.namespace, o)) : new Uint8Array(0),
      mapKey: descriptor.type === 'map' ? bytes((o) => descriptor.keySerializer.serialize(e.mapKey, o)) : new Uint8Array(0),
      version: FIRST_VERSION,
      value: bytes((o) => stored.serialize(value, o)),
    });
    if (spilling) await spilling;
  }
}
