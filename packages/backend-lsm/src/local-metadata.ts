/**
 * The database's own metadata, so a restart needs no savepoint: the layout (operators, states and
 * their schema version tables, in the savepoint metadata encoding), the state id of every
 * [uid, state] pair, the layout version of this backend, the last checkpoint's counter and
 * position, and while a restore runs, the savepoint it restores from.
 */
import { RestoreError } from '@stateshift/core';
import { decodeMetadata, encodeMetadata, type SavepointMetadata } from '@stateshift/savepoint';
import type { ClassicLevel } from 'classic-level';
import { entryKeyOf, META_STATE } from './layout.js';

/** Version 2: lists are one value, state ids name [uid, state] pairs, checkpoints with undo records. */
export const LAYOUT_VERSION = 2;

export type Db = ClassicLevel<Uint8Array, Uint8Array>;
export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/**
 * Writes operations as one atomic batch through classic-level's chained batch: each operation goes
 * to the native batch at once (the array form costs several times more per operation).
 */
export function writeBatch(db: Db, ops: readonly BatchOp[], options: { sync?: boolean } = {}): Promise<void> {
  const batch = db.batch();
  for (const op of ops) {
    if (op.type === 'put') batch.put(op.key, op.value);
    else batch.del(op.key);
  }
  return batch.write(options);
}

export interface LocalMetadata {
  layout: SavepointMetadata;
  /** Index = state id; null for retired ids (never reused). */
  stateIds: ([uid: string, state: string] | null)[];
  /** How many checkpoints were committed. */
  counter: number;
  position: Uint8Array | undefined;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();
const EMPTY = new Uint8Array(0);
const metaKey = (name: string) => entryKeyOf(META_STATE, 0, utf8.encode(name), EMPTY);
const LAYOUT = metaKey('layout');
const IDS = metaKey('state-ids');
const VERSION = metaKey('layout-version');
const COUNTER = metaKey('checkpoint-counter');
const POSITION = metaKey('position');
const RESTORING = metaKey('restoring');

export async function loadMetadata(db: Db, dir: string): Promise<LocalMetadata | undefined> {
  const [layout, ids, version, counter, position] = await db.getMany([LAYOUT, IDS, VERSION, COUNTER, POSITION]);
  if (!layout) return undefined;
  if (!version) {
    throw new RestoreError(
      `the database in ${dir} was written by a previous release of @stateshift/backend-lsm (an older layout): open it with that release, ` +
        'take a savepoint (backend.savepoint()), and restore the savepoint into a new directory with this release (openLsmBackend({ dir, restoreFrom }))',
    );
  }
  const v = Number(text.decode(version));
  if (v !== LAYOUT_VERSION) {
    throw new RestoreError(`the database in ${dir} has layout version ${v}; this release reads version ${LAYOUT_VERSION}: open it with the release that wrote it and take a savepoint`);
  }
  if (!ids || !counter) throw new RestoreError(`the database in ${dir} has a layout but no state ids or checkpoint counter: it was not written by @stateshift/backend-lsm`);
  return {
    layout: decodeMetadata(layout, `${dir} (local metadata)`),
    stateIds: JSON.parse(text.decode(ids)) as LocalMetadata['stateIds'],
    counter: Number(text.decode(counter)),
    position: position ? new Uint8Array(position) : undefined,
  };
}

/** The savepoint an interrupted restore was copying, if any. */
export async function restoringFrom(db: Db): Promise<string | undefined> {
  const marker = await db.get(RESTORING);
  return marker ? text.decode(marker) : undefined;
}

export function restoringMarker(location: string): BatchOp {
  return { type: 'put', key: RESTORING, value: utf8.encode(location) };
}

/** The whole metadata as batch operations (the restore marker removed). */
export function metadataOps(meta: LocalMetadata): BatchOp[] {
  return [layoutOp(meta), ...checkpointOps(meta), { type: 'del', key: RESTORING }];
}

export function layoutOp(meta: LocalMetadata): BatchOp {
  return { type: 'put', key: LAYOUT, value: encodeMetadata({ ...meta.layout, files: [] }) };
}

/** What a checkpoint commits besides the state: counter, position, state ids and layout version. */
export function checkpointOps(meta: LocalMetadata): BatchOp[] {
  return [
    { type: 'put', key: IDS, value: utf8.encode(JSON.stringify(meta.stateIds)) },
    { type: 'put', key: VERSION, value: utf8.encode(String(LAYOUT_VERSION)) },
    { type: 'put', key: COUNTER, value: utf8.encode(String(meta.counter)) },
    meta.position ? { type: 'put', key: POSITION, value: meta.position } : { type: 'del', key: POSITION },
  ];
}
