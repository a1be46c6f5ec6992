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
import { SavepointStorageError } from '@stateshift/core';
import { newestBytes, scatteredList, ttlChanged, type BackgroundMigration, type LsmBackend, type LsmState } from './backend.js';
import { BatchPipeline, EntryWriter, type CopyFilter } from './ingest.js';
import { keyGroupPrefix, latin1, prefixEnd } from './layout.js';
import type { Db } from './local-metadata.js';
import type { LowerLayer, LowerPart } from './lower-layer.js';
import type { EntryBlock } from '@stateshift/savepoint';

const BATCH = 5000;

/** Where the pass is: a part, its verified blocks, the next block, and LevelDB's keys of the part. */
interface Place {
  part: LowerPart;
  blocks: EntryBlock[];
  next: number;
  writer: EntryWriter;
  present?: Set<string>;
  seenWrites: number;
}

export async function copyLowerLayer(backend: LsmBackend, lower: LowerLayer, options: { rate: number; control: BackgroundMigration; fresh?: boolean }): Promise<void> {
  const started = Date.now();
  let copied = 0;
  // A run holds the write buffer's order (and ends by waiting for its writes): it gives way at the
  // next block when a flush is waiting or the pass is paused or stopped, and a rate-limited one
  // copies a tenth of a second's worth.
  const run = options.rate ? Math.max(1, Math.floor(options.rate / 10)) : Infinity;
  const pipeline = new BatchPipeline(backend.db, BATCH);
  const converters = new Map<LsmState, (value: Uint8Array) => Uint8Array>();
  for (const state of backend.states) if (ttlChanged(state)) converters.set(state, newestBytes(state));
  const convert = converters.size ? (state: LsmState, value: Uint8Array) => converters.get(state)?.(value) ?? value : undefined;
  // Right after a restore LevelDB holds none of the states' keys, until the write buffer writes.
  const emptyUntil = options.fresh ? backend.buffer.writes : -1;
  const parts = lower.parts();
  let index = 0;
  let place: Place | undefined;
  // Parts whose entries are all written, once the run's batches are.
  const finished: LowerPart[] = [];
  // The next part's blocks are read while this part is copied, the two into buffers that take
  // turns (a part's buffer is read into again only once the part is done).
  const buffers = [{ bytes: new Uint8Array(0) }, { bytes: new Uint8Array(0) }];
  const read = (i: number) => {
    const reading = i < parts.length ? readBlocks(lower, parts[i], buffers[i % 2], options.control) : Promise.resolve([]);
    reading.catch(() => undefined);
    return reading;
  };
  let ahead = read(0);
  try {
    while (index < parts.length) {
      if (!(await options.control.checkpoint())) return;
      let entries = 0;
      await backend.buffer.exclusive(async () => {
        // Parts and blocks until the run is full; a part may go on in the next run.
        const full = () => entries >= run || (entries > 0 && (backend.buffer.queued > 0 || options.control.halting));
        while (index < parts.length && !full()) {
          if (!place) {
            const blocks = await ahead;
            ahead = read(index + 1);
            place = {
              part: parts[index],
              blocks,
              next: 0,
              writer: new EntryWriter(pipeline, parts[index].states, (state) => scatteredList(state.slot.uid, state, lower.location)),
              seenWrites: -1,
            };
          }
          // LevelDB's keys of this key group, noted again only after a flush changed them.
          if (!place.present || place.seenWrites !== backend.buffer.writes) {
            place.seenWrites = backend.buffer.writes;
            place.present = backend.buffer.writes === emptyUntil ? new Set() : await presentKeys(backend.db, place.part);
          }
          place.writer.filter = filterOf(place.present, convert);
          const { blocks } = place;
          while (place.next < blocks.length && (entries === 0 || (!full() && entries + blocks[place.next].count <= run))) {
            entries += blocks[place.next].count;
            await place.writer.block(blocks[place.next++]);
          }
          if (place.next < blocks.length) break;
          await place.writer.end();
          finished.push(place.part);
          place = undefined;
          index++;
        }
        await pipeline.drain();
        for (const part of finished.splice(0)) lower.copied(part);
      });
      copied += entries;
      if (options.rate) {
        const due = (copied / options.rate) * 1000 - (Date.now() - started);
        if (due > 0) await options.control.sleep(due);
      }
    }
  } finally {
    await pipeline.close();
  }
}

/**
 * Pauses before reading a key group again after a storage failure. A store's failures (a dropped
 * connection, a store briefly unavailable) often pass: the SDK's own retries cover about a second,
 * these about half a minute more, so that a long pass does not stop for a blip.
 */
const COPY_RETRY_PAUSES_MS = [1000, 2000, 4000, 8000, 15000];

/** A part's blocks, read again after a storage failure; damage, refused access or a stop end it at once. */
async function readBlocks(lower: LowerLayer, part: LowerPart, into: { bytes: Uint8Array }, control: BackgroundMigration): Promise<EntryBlock[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await lower.blocks(part, into);
    } catch (error) {
      const passing = error instanceof SavepointStorageError && error.reason === 'io';
      if (!passing || attempt >= COPY_RETRY_PAUSES_MS.length || control.stopping) throw error;
      await control.sleep(COPY_RETRY_PAUSES_MS[attempt]);
    }
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
    const prefix = keyGroupPrefix(state.id, part.keyGroup);
    const iterator = db.keys({ gte: prefix, lt: prefixEnd(prefix) });
    try {
      for (let read = await iterator.nextv(1000); read.length; read = await iterator.nextv(1000)) for (const key of read) keys.add(latin1(key));
    } finally {
      await iterator.close();
    }
  }
  return keys;
}
