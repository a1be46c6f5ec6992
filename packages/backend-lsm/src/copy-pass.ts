/**
 * The pass that copies a savepoint read in place (the lower layer) into LevelDB, key group by key
 * group, at a limited rate: entries LevelDB already has (written or deleted since the restore, or
 * copied before a crash) and entries with a buffered write are left alone; entries at an older
 * schema version are migrated as they are copied. Each batch is written in order with the write
 * buffer's flushes. Entries are copied as stored, at their schema version (as a lazy restore copies
 * them: lazy reads and the background migration pass handle older versions; TTL turned on or off
 * is migrated while copying). When it ends, the
 * lower layer is dropped at the next checkpoint.
 */
import { DataInput } from '@stateshift/core';
import { newestBytes, ttlChanged, type BackgroundMigration, type LsmBackend } from './backend.js';
import { latin1 } from './layout.js';
import { writeBatch } from './local-metadata.js';
import type { LowerLayer } from './lower-layer.js';

const BATCH = 1000;

export async function copyLowerLayer(backend: LsmBackend, lower: LowerLayer, options: { rate: number; control: BackgroundMigration }): Promise<void> {
  const started = Date.now();
  let copied = 0;
  for (const state of backend.states) {
    const map = state.slot.descriptor.type === 'map';
    // TTL turned on or off migrates as entries are copied (timestamps must not outlive their version).
    const copyOf = ttlChanged(state) ? newestBytes(state) : (value: Uint8Array) => value;
    for (const keyGroup of lower.keyGroups(state.id)) {
      const { keys, values } = lower.entries(state.id, keyGroup);
      for (let i = 0; i < keys.length; i += BATCH) {
        if (!(await options.control.checkpoint())) return;
        await backend.buffer.exclusive(async () => {
          const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
          for (let j = i; j < Math.min(i + BATCH, keys.length); j++) {
            const key = keys[j];
            if (backend.db.getSync(key) !== undefined) continue;
            if (backend.buffer.pending(latin1(key), map ? mapPrefixOf(key) : undefined)) continue;
            ops.push({ type: 'put', key, value: copyOf(values[j]) });
          }
          if (ops.length) await writeBatch(backend.db, ops);
        });
        copied += Math.min(BATCH, keys.length - i);
        if (options.rate) {
          const due = (copied / options.rate) * 1000 - (Date.now() - started);
          if (due > 0) await options.control.sleep(due);
        }
      }
    }
  }
}

/** The map prefix (state, key group, key and namespace) of a map entry key, as the buffer names it. */
function mapPrefixOf(key: Uint8Array): string {
  const input = new DataInput(key.subarray(4));
  input.readRaw(input.readLength('an entry key'));
  input.readRaw(input.readLength('an entry namespace'));
  return latin1(key.subarray(0, 4 + input.offset));
}
