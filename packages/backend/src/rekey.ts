/**
 * Re-keying during a restore, with collisions found and never resolved silently: when keys,
 * namespaces or map keys migrate, each entry is handed to the backend under its new key as it is
 * read, while a record of where it came from goes to an external sort (OperatorCollisions, shared
 * with offline rewrites and the deep dry-run). A new key reached from two old keys (or a new map key
 * from two old map keys) is a collision: KeyCollisionError naming the keys, thrown once the operator
 * is read and before the restore completes, so whatever was written for it is never served.
 *
 * Memory stays bounded by the sort's budget, whatever the state's size; only states that give
 * `mergeOnCollision` are held until the operator is read whole (a later entry may merge into an
 * earlier one), as offline rewrites hold them (CollisionMerger).
 */
import { DataInput } from '@stateshift/core';
import { CollisionMerger, entryDecoder, OperatorCollisions, type DecodedEntry, type OperatorPlan, type RawEntry, type RekeyedBytes, type Savepoint, type StatePlan } from '@stateshift/savepoint';
import type { KeyLocation, OperatorSlot, StateSlot } from './slots.js';

const EMPTY = new Uint8Array(0);

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/**
 * What a re-keyed entry becomes, for the backend to write: stored values under a new key. A value
 * state's row holds one value; a list state's row a run of elements that one old key brought (the
 * elements of one list are stored together in a savepoint); a map state's row one map entry.
 */
export interface RekeyedRow {
  slot: StateSlot;
  key: unknown;
  namespace: unknown;
  /** Where the new key lives. Its `keyNs` is valid until the next row. */
  at: KeyLocation;
  stored: unknown[];
  /** Map state only. */
  mapKey?: unknown;
}

export interface RekeyOptions {
  /** Memory for the collision records before they spill to disk (OperatorCollisions' budget). */
  sortBufferBytes?: number;
  /**
   * The error for a list whose elements are not stored together (a second run of one old key's
   * elements), found with the collisions: for backends that write a list whole, where a second run
   * replaces the first. Without it each run is handed on, and the backend appends it.
   */
  scatteredList?: (slot: StateSlot) => Error;
}

/** The key and namespace bytes of a key part (each length-prefixed) as views of it, with `mapKey`. */
function newKeyBytes(keyNs: Uint8Array, mapKey: Uint8Array): RekeyedBytes {
  const input = new DataInput(keyNs);
  const key = input.readRaw(input.readVarUint());
  return { key, namespace: input.readRaw(input.readVarUint()), mapKey };
}

/**
 * Reads the entries of a matched operator whose keys, namespaces or map keys migrate, and hands
 * `write` each one under its new key (entries whose new key group this instance does not serve are
 * left out). Throws KeyCollisionError for the first collision, after every entry was handed on and
 * before the merged rows of `mergeOnCollision` states are; a promise from `write` is awaited.
 */
export async function restoreRekeyed(
  savepoint: Savepoint,
  plan: OperatorPlan,
  op: OperatorSlot,
  served: (keyGroup: number) => boolean,
  write: (row: RekeyedRow) => Promise<void> | void,
  options: RekeyOptions = {},
): Promise<void> {
  const decode = entryDecoder(plan);
  const collisions = new OperatorCollisions(plan, options.sortBufferBytes);
  const mergers = new Map<string, CollisionMerger>();
  for (const s of plan.states) if (s.status === 'restored' && collisions.tracks(s) && s.descriptor!.options.mergeOnCollision) mergers.set(s.state, new CollisionMerger(plan.uid, s));
  // The list run being gathered: the elements one old key brought, in order (its key part copied).
  let run: { origin: string; row: RekeyedRow } | undefined;
  const endRun = () => {
    const { row } = run!;
    run = undefined;
    return write(row);
  };
  // A run is recorded once: a second record of it is a second run of the same list.
  const { scatteredList } = options;
  const repeated = scatteredList && ((state: StatePlan) => (state.type === 'list' ? scatteredList(op.states.get(state.state)!) : undefined));
  // Synchronous unless something must be awaited (a write, a spill of collision records): a
  // promise per entry would cost a restore of millions of entries dearly.
  const add = (slot: StateSlot, raw: RawEntry, entry: DecodedEntry): Promise<void> | void => {
    const merger = mergers.get(slot.name);
    const isList = slot.descriptor.type === 'list';
    // A run goes on across other states' entries under its key; another list's element ends it.
    const origin = isList && !merger ? `${raw.state}\u0000${latin1(raw.key)}\u0000${latin1(raw.namespace)}` : '';
    if (run && origin) {
      if (run.origin === origin) {
        run.row.stored.push(entry.value);
        return;
      }
      const writing = endRun();
      if (writing) return writing.then(() => add(slot, raw, entry));
    }
    // Located after the run was written: a write may locate keys itself.
    const at = op.locateUnchecked(entry.key, entry.namespace);
    if (!served(at.keyGroup)) return;
    const isMap = slot.descriptor.type === 'map';
    let recording: Promise<void> | undefined;
    if (collisions.tracks(entry.state)) {
      const next = newKeyBytes(at.keyNs, isMap ? slot.encodeMapKey(entry.mapKey) : EMPTY);
      if (merger) {
        // Held past this entry: copies of the views.
        merger.add(raw, entry, { key: next.key.slice(), namespace: next.namespace.slice(), mapKey: next.mapKey });
        return;
      }
      recording = collisions.add(raw, next);
    }
    if (isList) {
      run = { origin, row: { slot, key: entry.key, namespace: entry.namespace, at: { keyGroup: at.keyGroup, keyNs: at.keyNs.slice() }, stored: [entry.value] } };
      return recording;
    }
    const row: RekeyedRow = { slot, key: entry.key, namespace: entry.namespace, at, stored: [entry.value], ...(isMap ? { mapKey: entry.mapKey } : {}) };
    // The row's key part stays valid while the recording spills (only a locate writes over it).
    return recording ? recording.then(() => write(row)) : write(row);
  };
  try {
    for await (const block of savepoint.blocks(plan.previousUid ?? plan.uid)) {
      for (const raw of block) {
        const entry = decode(raw);
        if (!entry) continue;
        const adding = add(op.states.get(entry.state.state)!, raw, entry);
        if (adding) await adding;
      }
    }
    if (run) await endRun();
    for await (const found of collisions.collisions(undefined, repeated)) throw found.error;
    for (const merger of mergers.values()) {
      const slot = op.states.get(merger.state.state)!;
      for (const row of merger.rows()) {
        const { key, namespace, mapKey } = row.entry;
        await write({ slot, key, namespace, at: op.locateUnchecked(key, namespace), stored: merger.stored(row), ...(slot.descriptor.type === 'map' ? { mapKey } : {}) });
      }
    }
  } finally {
    await collisions.dispose();
  }
}
