/**
 * A new savepoint from data (Flink's State Processor API "bootstrap"): entries for a job's states,
 * each key assigned to its key group. Entries are collected in memory and sorted per operator.
 */
import { DataOutput, keyGroupOf, storedValueSerializer, type JobDeclaration, type TtlValue } from '@stateshift/core';
import type { RawEntry } from '../data-file.js';
import { FIRST_VERSION, layoutOfJob } from '../layout.js';
import type { SavepointMetadata } from '../metadata.js';
import { writeSavepointEntries } from '../writer.js';

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

export async function bootstrapSavepoint(dir: string, job: JobDeclaration, data: AsyncIterable<BootstrapEntry> | Iterable<BootstrapEntry>, options: { now?: number } = {}): Promise<SavepointMetadata> {
  const now = options.now ?? Date.now();
  const byOperator = new Map<string, RawEntry[]>();
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
    if (!op) throw new TypeError(`bootstrap entry ${n}: the job has no operator "${e.operator}"`);
    const stateIndex = op.states.findIndex((s) => s.name === e.state);
    if (stateIndex < 0) throw new TypeError(`bootstrap entry ${n}: operator "${e.operator}" has no state "${e.state}"`);
    const descriptor = op.states[stateIndex];
    const key = bytes((o) => op.keySerializer.serialize(e.key, o));
    const stored = storedValueSerializer(descriptor);
    const value = descriptor.options.ttl ? ({ value: e.value, timestamp: now } satisfies TtlValue<unknown>) : e.value;
    const list = byOperator.get(op.uid) ?? [];
    byOperator.set(op.uid, list);
    list.push({
      state: stateIndex,
      keyGroup: keyGroupOf(key, job.maxParallelism),
      key,
      namespace: op.namespaceSerializer ? bytes((o) => op.namespaceSerializer!.serialize(e.namespace, o)) : new Uint8Array(0),
      mapKey: descriptor.type === 'map' ? bytes((o) => descriptor.keySerializer.serialize(e.mapKey, o)) : new Uint8Array(0),
      version: FIRST_VERSION,
      value: bytes((o) => stored.serialize(value, o)),
    });
  }
  return writeSavepointEntries(
    dir,
    layoutOfJob(job),
    { start: 0, end: job.maxParallelism - 1 },
    [...byOperator].map(([uid, entries]) => ({ uid, entries })),
  );
}
