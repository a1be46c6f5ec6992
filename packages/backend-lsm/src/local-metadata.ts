/**
 * The database's own metadata, so a restart needs no savepoint: the layout (operators, states and
 * their schema version tables, in the savepoint metadata encoding), the state id of every
 * "uid/state", and the last open time (list sequence numbers start above it).
 */
import { decodeMetadata, encodeMetadata, type SavepointMetadata } from '@stateshift/savepoint';
import type { ClassicLevel } from 'classic-level';
import { entryKey, META_STATE } from './layout.js';

export interface LocalMetadata {
  layout: SavepointMetadata;
  /** Index = state id; null for retired ids (never reused). */
  stateIds: (string | null)[];
  epoch: number;
}

const utf8 = new TextEncoder();
const metaKey = (name: string) => entryKey(META_STATE, 0, utf8.encode(name));
const LAYOUT = metaKey('layout');
const IDS = metaKey('state-ids');
const EPOCH = metaKey('epoch');

export type Db = ClassicLevel<Uint8Array, Uint8Array>;

export async function loadMetadata(db: Db, dir: string): Promise<LocalMetadata | undefined> {
  const [layout, ids, epoch] = await db.getMany([LAYOUT, IDS, EPOCH]);
  if (!layout) return undefined;
  if (!ids || !epoch) throw new TypeError(`the database in ${dir} has a layout but no state ids or epoch: it was not written by @stateshift/backend-lsm`);
  return {
    layout: decodeMetadata(layout, `${dir} (local metadata)`),
    stateIds: JSON.parse(new TextDecoder().decode(ids)) as (string | null)[],
    epoch: Number(new TextDecoder().decode(epoch)),
  };
}

/** Writes the metadata in one synced batch: it survives a crash whole or not at all. */
export async function saveMetadata(db: Db, meta: LocalMetadata): Promise<void> {
  await db.batch(
    [
      { type: 'put', key: LAYOUT, value: encodeMetadata({ ...meta.layout, files: [] }) },
      { type: 'put', key: IDS, value: utf8.encode(JSON.stringify(meta.stateIds)) },
      { type: 'put', key: EPOCH, value: utf8.encode(String(meta.epoch)) },
    ],
    { sync: true },
  );
}

export const stateName = (uid: string, state: string) => `${uid}/${state}`;
