/**
 * The pass that copies a savepoint read in place (the lower layer) into LevelDB, key group by key
 * group, at a limited rate, through the restore's writer (entries walked where they lie in verified
 * blocks, batches pipelined). Entries LevelDB already has (written or deleted since the restore, or
 * copied before a crash) are left alone. Each run of batches holds the write buffer's order
 * (`exclusive`), so LevelDB's keys cannot change under it; an entry with a buffered write is copied
 * all the same, harmlessly: that write is flushed after the copy, and its undo record keeps the
 * copied value, which is the checkpointed one. Entries are copied at their schema version (as a
 * lazy restore copies them: lazy reads and the background migration pass handle older versions);
 * TTL turned on or off is migrated while copying. When the pass ends, the lower layer is dropped at
 * the next checkpoint.
 */
import { newestBytes, scatteredList, ttlChanged, type BackgroundMigration, type LsmBackend, type LsmState } from './backend.js';
import { BatchPipeline, EntryWriter, type CopyFilter } from './ingest.js';
import { latin1, prefixEnd } from './layout.js';
import type { Db } from './local-metadata.js';
import type { LowerLayer, LowerPart } from './lower-layer.js';

/** Entries per batch, and at most per run of batches holding the write buffer's order. */
const BATCH = 5000;
const RUN = 20_000;

export async function copyLowerLayer(backend: LsmBackend, lower: LowerLayer, options: { rate: number; control: BackgroundMigration }): Promise<void> {
  const started = Date.now();
  let copied = 0;
  // A rate-limited pass copies about a tenth of a second's worth at a time.
  const run = options.rate ? Math.max(1, Math.min(RUN, Math.floor(options.rate / 10))) : RUN;
  const pipeline = new BatchPipeline(backend.db, BATCH);
  const converters = new Map<LsmState, (value: Uint8Array) => Uint8Array>();
  for (const state of backend.states) if (ttlChanged(state)) converters.set(state, newestBytes(state));
  const convert = converters.size ? (state: LsmState, value: Uint8Array) => converters.get(state)?.(value) ?? value : undefined;
  try {
    for (const part of lower.parts()) {
      const writer = new EntryWriter(pipeline, part.states, (state) => scatteredList(state.slot.uid, state, lower.location));
      const blocks = lower.blocks(part);
      let present: Set<string> | undefined;
      let seenWrites = -1;
      for (let next = 0; next < blocks.length; ) {
        if (!(await options.control.checkpoint())) return;
        const from = next;
        let entries = 0;
        while (next < blocks.length && (next === from || entries + blocks[next].count <= run)) entries += blocks[next++].count;
        await backend.buffer.exclusive(async () => {
          // LevelDB's keys of this key group, noted again only after a flush changed them.
          if (!present || seenWrites !== backend.buffer.writes) {
            seenWrites = backend.buffer.writes;
            present = await presentKeys(backend.db, part);
          }
          writer.filter = filterOf(present, convert);
          for (let b = from; b < next; b++) await writer.block(blocks[b]);
          if (next === blocks.length) await writer.end();
          await pipeline.drain();
        });
        copied += entries;
        if (options.rate) {
          const due = (copied / options.rate) * 1000 - (Date.now() - started);
          if (due > 0) await options.control.sleep(due);
        }
      }
    }
  } finally {
    await pipeline.close();
  }
}

/** What keeps entries out: keys LevelDB has. None when there are none and nothing converts. */
function filterOf(present: Set<string>, convert: CopyFilter['convert']): CopyFilter | undefined {
  if (!present.size && !convert) return undefined;
  return { skip: present.size ? (key) => present.has(latin1(key)) : () => false, convert };
}

/** The keys (tombstones too) LevelDB holds for a part's states in its key group. */
async function presentKeys(db: Db, part: LowerPart): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const state of new Set(part.states)) {
    if (!state) continue;
    const prefix = new Uint8Array([state.id >> 8, state.id & 0xff, part.keyGroup >> 8, part.keyGroup & 0xff]);
    const iterator = db.keys({ gte: prefix, lt: prefixEnd(prefix) });
    try {
      for (let read = await iterator.nextv(1000); read.length; read = await iterator.nextv(1000)) for (const key of read) keys.add(latin1(key));
    } finally {
      await iterator.close();
    }
  }
  return keys;
}
