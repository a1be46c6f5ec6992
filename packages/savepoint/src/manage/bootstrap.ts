/**
 * A new savepoint from data (Flink's State Processor API "bootstrap"): entries for a job's states,
 * each key assigned to its key group. Entries stream in any order and are sorted in bounded memory
 * (sorted runs spilled to a temporary directory, then merged), so the input may be larger than memory.
 * Two values for one key of a value state (or one map key of a map state) are refused: a restore
 * would keep one of them.
 */
import {
  DataOutput,
  KeyCollisionError,
  keyGroupOf,
  murmur3_32,
  storedValueSerializer,
  type JobDeclaration,
  type OperatorDeclaration,
  type TtlValue,
} from '@stateshift/core';
import { compareBytes, sameBytes } from '../byte-order.js';
import type { RawEntry } from '../data-file.js';
import { describeKeyBytes } from '../decode-entries.js';
import { FIRST_VERSION, layoutOfJob } from '../layout.js';
import type { SavepointMetadata } from '../metadata.js';
import { SavepointWriter } from '../writer.js';
import { EntrySorter, type EntryOrder } from './entry-sorter.js';

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
  const sorter = new EntrySorter(job.maxParallelism, options.sortBufferBytes, byStateAndKey);
  try {
    await sortEntries(sorter, job, data, now);
    const writer = await SavepointWriter.create(dir, layoutOfJob(job));
    try {
      for (const group of sorter.groups()) {
        const op = job.operators[group];
        const file = await writer.openDataFile(op.uid, { start: 0, end: job.maxParallelism - 1 });
        for await (const block of refuseDuplicates(op, sorter.sorted(group))) {
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

/**
 * Within a key group: by state, then key, namespace and map key (a hash ranks them; ties keep the
 * order entries came in, so list elements stay in order). Entries for one key of a state are adjacent.
 */
const byStateAndKey: EntryOrder = {
  rank: (e) => e.state * 2 ** 32 + murmur3_32(e.mapKey, murmur3_32(e.namespace, murmur3_32(e.key))),
  compare: (a, b) => compareBytes(a.key, b.key) || compareBytes(a.namespace, b.namespace) || compareBytes(a.mapKey, b.mapKey),
};

/**
 * `blocks` (one operator's entries, sorted by `byStateAndKey`) passed through, after a KeyCollisionError
 * for the first two entries of one key of a value state, or one map key of a map state.
 */
export async function* refuseDuplicates(op: OperatorDeclaration, blocks: AsyncIterable<RawEntry[]>): AsyncGenerator<RawEntry[]> {
  // The last entry of the previous block, copied (a block's entries are views).
  let previous: RawEntry | undefined;
  for await (const block of blocks) {
    for (let i = 0; i < block.length; i++) {
      const entry = block[i];
      const before = i > 0 ? block[i - 1] : previous;
      if (before && op.states[entry.state].type !== 'list' && sameEntryKey(before, entry)) throw duplicateError(op, entry);
    }
    const last = block[block.length - 1];
    if (last) previous = { ...last, key: last.key.slice(), namespace: last.namespace.slice(), mapKey: last.mapKey.slice() };
    yield block;
  }
}

const sameEntryKey = (a: RawEntry, b: RawEntry) => a.state === b.state && sameBytes(a.key, b.key) && sameBytes(a.namespace, b.namespace) && sameBytes(a.mapKey, b.mapKey);

function duplicateError(op: OperatorDeclaration, entry: RawEntry): KeyCollisionError {
  const state = op.states[entry.state];
  const where = [
    `key ${describeKeyBytes(op.keySerializer, entry.key)}`,
    ...(op.namespaceSerializer ? [`namespace ${describeKeyBytes(op.namespaceSerializer, entry.namespace)}`] : []),
    ...(state.type === 'map' ? [`map key ${describeKeyBytes(state.keySerializer, entry.mapKey)}`] : []),
  ].join(', ');
  return new KeyCollisionError(
    op.uid,
    state.name,
    `bootstrap: operator "${op.uid}" ${state.type} state "${state.name}" has two values for ${where}, and a savepoint holds one: ` +
      `a restore would keep one and lose the other. Give bootstrapSavepoint one entry per ${state.type === 'map' ? 'map key' : 'key'} (merge the values first)` +
      `${state.type === 'value' ? ', or declare a list state for several values per key' : ''}.`,
  );
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
