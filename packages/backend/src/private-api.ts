/**
 * The private API a backend implements over its stored form. The public handles (handles.ts) check,
 * encode, apply TTL and copy; these methods only store and fetch. A "stored" value is the value as
 * the state's writer writes it: TTL-wrapped (`{ value, timestamp }`) when the state has a TTL.
 *
 * `encoded` arguments are views into a reused buffer: valid during the call only.
 * Values returned by the getters belong to the caller (a copy, or freshly decoded).
 */
import type { StateSlot } from './slots.js';

export interface MapEntryWrite {
  mapKey: unknown;
  mapKeyBytes: Uint8Array;
  stored: unknown;
  encoded: Uint8Array;
}

export interface PrivateStateApi {
  /** Value state: the stored value, or undefined. */
  _get(slot: StateSlot, key: unknown, namespace: unknown): unknown;
  _put(slot: StateSlot, key: unknown, namespace: unknown, stored: unknown, encoded: Uint8Array): void;
  /** Removes a key's row in any state type: the value, the whole list, the whole map. */
  _delete(slot: StateSlot, key: unknown, namespace: unknown): void;

  /** List state: the stored elements ([] when none). */
  _getList(slot: StateSlot, key: unknown, namespace: unknown): unknown[];
  /** Replaces the list (never empty: an empty update is `_delete`). `encoded` holds the elements one after the other. */
  _putList(slot: StateSlot, key: unknown, namespace: unknown, stored: unknown[], encoded: Uint8Array): void;
  _appendList(slot: StateSlot, key: unknown, namespace: unknown, stored: unknown[], encoded: Uint8Array): void;

  /** Map state. */
  _getMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): unknown;
  /** Puts every entry (already checked: this cannot fail half way). */
  _putMapValues(slot: StateSlot, key: unknown, namespace: unknown, entries: MapEntryWrite[]): void;
  _deleteMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): void;
  /** The map's entries as [mapKey, stored value], as they are when iteration starts. */
  _mapEntries(slot: StateSlot, key: unknown, namespace: unknown): AsyncIterable<[unknown, unknown]>;

  /** Every key and namespace with an entry in the state, as they are when iteration starts. */
  _keys(slot: StateSlot): AsyncIterable<{ key: unknown; namespace: unknown }>;
}
