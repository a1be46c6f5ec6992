/**
 * The state migration pass: rewrites every entry of a state that is not at the newest schema
 * version, in batches, through the reader of its own version and the current writer.
 *
 * Crash safety: the version table (old versions and the new one) is saved before the pass starts,
 * and each batch is written atomically with the new version id, so reopening after a crash runs the
 * pass again and skips what is done; no entry is converted twice, none half-converted. When no old
 * entry is left, the old versions are retired from the metadata.
 */
import { DataInput, DataOutput, keyGroupInRange } from '@stateshift/core';
import type { BackgroundMigration, LsmBackend } from './backend.js';
import { parseKey, parseValue, prefixEnd, statePrefix } from './layout.js';
import type { StateRuntime } from './state-runtime.js';

export interface MigrationProgress {
  operator: string;
  state: string;
  done: number;
  total: number;
  /** Entries per second so far. */
  rate: number;
}

const BATCH = 1000;

export async function migrateState(
  backend: LsmBackend,
  state: StateRuntime,
  options: { onProgress?(p: MigrationProgress): void; rate?: number; control?: BackgroundMigration; total?: number },
): Promise<void> {
  const prefix = statePrefix(state.id);
  const end = prefixEnd(prefix);
  const db = backend.db;
  // What is left, for progress: known after a restore, else counted (after a crash, part is done).
  let total = options.total ?? 0;
  if (options.total === undefined) for await (const value of db.values({ gte: prefix, lt: end })) if (parseValue(value).version !== state.newest) total++;
  const started = Date.now();
  let done = 0;
  const report = () => {
    const seconds = (Date.now() - started) / 1000;
    options.onProgress?.({ operator: state.uid, state: state.descriptor.name, done, total, rate: seconds > 0 ? done / seconds : done });
  };
  const out = new DataOutput(256);
  const convert = (value: Uint8Array) => {
    const input = new DataInput(value);
    const version = input.readVarUint();
    const reader = state.readers.get(version);
    if (!reader) throw new TypeError(`state "${state.uid}/${state.descriptor.name}" has entries of version ${version}, which the metadata does not list`);
    // Version id and value written straight into one buffer.
    out.reset();
    out.writeVarUint(state.newest);
    state.writer.serialize(reader.deserialize(input), out);
    return out.toBytes();
  };
  const stale = ([key, value]: [Uint8Array, Uint8Array]) => parseValue(value).version !== state.newest && keyGroupInRange(parseKey(key).keyGroup, backend.keyGroupRange);

  if (!options.control) {
    // While opening, nothing else writes: one pass over one iterator, a batch at a time.
    const iterator = db.iterator({ gte: prefix, lt: end });
    try {
      for (;;) {
        const read = await iterator.nextv(BATCH);
        if (!read.length) break;
        const batch = read.filter(stale);
        if (!batch.length) continue;
        await db.batch(batch.map(([key, value]) => ({ type: 'put' as const, key, value: convert(value) })));
        done += batch.length;
        report();
      }
    } finally {
      await iterator.close();
    }
  } else {
    let after: Uint8Array | undefined;
    for (;;) {
      if (!(await options.control.checkpoint())) return;
      const batch = await db.iterator(after ? { gt: after, lt: end, limit: BATCH } : { gte: prefix, lt: end, limit: BATCH }).all();
      if (!batch.length) break;
      after = batch[batch.length - 1][0];
      const todo = batch.filter(stale);
      if (!todo.length) continue;
      await backend.exclusive(async () => {
        // Writes by the job may have landed since the batch was read: convert only what is unchanged.
        const current = await db.getMany(todo.map(([key]) => key));
        const ops = todo.filter(([, value], i) => current[i] && Buffer.compare(current[i]!, value) === 0).map(([key, value]) => ({ type: 'put' as const, key, value: convert(value) }));
        if (ops.length) await db.batch(ops);
      });
      done += todo.length;
      report();
      if (options.rate) {
        const due = (done / options.rate) * 1000 - (Date.now() - started);
        if (due > 0) await new Promise((r) => setTimeout(r, due));
      }
    }
  }
  const versions = backend.meta.layout.operators[state.operatorIndex].states[state.stateIndex].versions;
  await backend.setVersions(state, versions.filter((v) => v.id === state.newest));
}

