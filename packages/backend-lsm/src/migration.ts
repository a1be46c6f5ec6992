/**
 * The state migration pass: rewrites every entry of a state that is not at the newest schema
 * version, in batches, through the reader of its own version and the current writer.
 *
 * Crash safety: the version table (old versions and the new one) is saved before the pass starts,
 * and each batch is written atomically with the new version id, so reopening after a crash runs the
 * pass again and skips what is done; no entry is converted twice, none half-converted. Old versions
 * retire from the metadata (at the next checkpoint) when no entry is left at them.
 *
 * The background pass runs while the job writes: it never touches a key with a buffered write, and
 * each of its batches is written in order with the write buffer's flushes.
 */
import { DataInput, DataOutput, keyGroupInRange } from '@stateshift/core';
import type { BackgroundMigration, LsmBackend, LsmState } from './backend.js';
import { latin1, parseKey, prefixEnd, statePrefix } from './layout.js';
import { writeBatch } from './local-metadata.js';

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
  state: LsmState,
  options: { onProgress?(p: MigrationProgress): void; rate?: number; control?: BackgroundMigration; total?: number },
): Promise<void> {
  const prefix = statePrefix(state.id);
  const end = prefixEnd(prefix);
  const db = backend.db;
  const list = state.slot.descriptor.type === 'list';
  // Empty values are tombstones over a savepoint read in place: nothing to migrate.
  const versionOf = (value: Uint8Array) => (value.length ? new DataInput(value).readVarUint() : state.newest);
  // What is left, for progress: known after a restore, else counted (after a crash, part is done),
  // and only for a listener. A background pass stops counting when it is stopped (a close waits).
  let total = options.total ?? 0;
  if (options.total === undefined && options.onProgress) {
    const values = db.values({ gte: prefix, lt: end });
    try {
      for (let read = await values.nextv(BATCH); read.length && !options.control?.stopping; read = await values.nextv(BATCH)) {
        for (const value of read) if (versionOf(value) !== state.newest) total++;
      }
    } finally {
      await values.close();
    }
  }
  const started = Date.now();
  let done = 0;
  const report = () => {
    const seconds = (Date.now() - started) / 1000;
    options.onProgress?.({ operator: state.slot.uid, state: state.slot.name, done, total, rate: seconds > 0 ? done / seconds : done });
  };
  const out = new DataOutput(256);
  const convert = (value: Uint8Array) => {
    const input = new DataInput(value);
    const reader = state.readers.get(input.readVarUint())!;
    // Version id and value (or every element) written straight into one buffer.
    out.reset();
    out.writeVarUint(state.newest);
    do state.slot.writer.serialize(reader.deserialize(input), out);
    while (list && !input.atEnd);
    return out.toBytes();
  };
  const stale = ([key, value]: [Uint8Array, Uint8Array]) => versionOf(value) !== state.newest && keyGroupInRange(parseKey(key).keyGroup, backend.keyGroupRange);

  if (!options.control) {
    // While opening, nothing else writes: one pass over one iterator, a batch at a time.
    const iterator = db.iterator({ gte: prefix, lt: end });
    try {
      for (;;) {
        const read = await iterator.nextv(BATCH);
        if (!read.length) break;
        const batch = read.filter(stale);
        if (!batch.length) continue;
        await writeBatch(db, batch.map(([key, value]) => ({ type: 'put' as const, key, value: convert(value) })));
        done += batch.length;
        report();
      }
    } finally {
      await iterator.close();
    }
    return;
  }
  let after: Uint8Array | undefined;
  for (;;) {
    if (!(await options.control.checkpoint())) return;
    const batch = await db.iterator(after ? { gt: after, lt: end, limit: BATCH } : { gte: prefix, lt: end, limit: BATCH }).all();
    if (!batch.length) break;
    after = batch[batch.length - 1][0];
    const todo = batch.filter(stale);
    if (!todo.length) continue;
    await backend.buffer.exclusive(async () => {
      // The job may have written since the batch was read: convert only what is unchanged in LevelDB
      // and has no buffered write (the buffer's value would shadow, and later replace, it).
      const ops = todo
        .filter(([key, value]) => {
          const now = db.getSync(key);
          if (!now || Buffer.compare(now, value) !== 0) return false;
          return !backend.buffer.pending(latin1(key), state.slot.descriptor.type === 'map' ? mapPrefixId(key, parseKey(key).rest) : undefined);
        })
        .map(([key, value]) => ({ type: 'put' as const, key, value: convert(value) }));
      if (ops.length) await writeBatch(db, ops);
    });
    done += todo.length;
    report();
    if (options.rate) {
      const due = (done / options.rate) * 1000 - (Date.now() - started);
      if (due > 0) await options.control.sleep(due);
    }
  }
}

/** The map prefix (state, key group, key and namespace) of a map entry key, as the buffer names it. */
function mapPrefixId(key: Uint8Array, rest: Uint8Array): string {
  const input = new DataInput(rest);
  input.readRaw(input.readLength('an entry key'));
  input.readRaw(input.readLength('an entry namespace'));
  return latin1(key.subarray(0, 4 + input.offset));
}
