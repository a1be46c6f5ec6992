/**
 * Key collisions while re-keying: when keys, namespaces or map keys migrate, two old keys may become
 * one new key. Nothing may be dropped silently, so every path that re-keys (backend restores, offline
 * rewrites, the deep dry-run) records where each new key came from and refuses a second origin,
 * unless the state gives `mergeOnCollision`.
 */
import { KeyCollisionError, formatKey } from '@stateshift/core';
import type { RawEntry } from './data-file.js';
import { describeKeyBytes, type DecodedEntry } from './decode-entries.js';
import type { OperatorPlan, StatePlan } from './restore-plan.js';

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** One id for several byte strings (key, namespace, map key), each length-prefixed so no two join alike. */
const idOf = (parts: Uint8Array[]) => parts.map((p) => `${p.byteLength}:${latin1(p)}`).join('');

export class CollisionTracker {
  private readonly origins = new Map<string, Uint8Array[]>();

  /**
   * Records that the entry at new key `newKey` of state `state` came from the old key `oldKey`
   * (each the bytes of key, namespace and, for map state, map key). Returns the other old key when
   * a different old key already produced the same new key: a collision; else undefined.
   */
  collides(state: number, newKey: Uint8Array[], oldKey: Uint8Array[]): Uint8Array[] | undefined {
    const id = `${state}:${idOf(newKey)}`;
    const seen = this.origins.get(id);
    if (seen === undefined) {
      this.origins.set(id, oldKey.map((p) => p.slice()));
      return undefined;
    }
    return idOf(seen) === idOf(oldKey) ? undefined : seen;
  }
}

/**
 * The error for two old keys that became one new key, naming operator, state and the keys;
 * `oldKeys` as already formatted for the message (see describeKeyBytes). `remedy` replaces the
 * default advice (keep the keys apart, or give mergeOnCollision).
 */
export function keyCollisionError(operator: string, state: string, what: 'key' | 'map key', newKey: unknown, oldKeys: string[], remedy?: string): KeyCollisionError {
  return new KeyCollisionError(
    operator,
    state,
    `operator "${operator}" state "${state}": the old ${what}s ${oldKeys.join(' and ')} both become the new ${what} ${formatKey(newKey)} ` +
      `after migration, so one value would be lost. ${remedy ?? `Make the ${what} converter keep them apart, or give the state mergeOnCollision(a, b) to merge their values.`}`,
  );
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);

/** An entry's key, namespace and map key as the new job writes them. */
export interface RekeyedBytes {
  key: Uint8Array;
  namespace: Uint8Array;
  mapKey: Uint8Array;
}

/**
 * The collisions among one operator's re-keyed entries, as the error a restore fails with: what
 * offline rewrites and the deep dry-run share. Only states whose keys, namespaces or map keys change
 * bytes are tracked (the others cannot collide).
 */
export class OperatorCollisions {
  private readonly tracker = new CollisionTracker();

  constructor(private readonly plan: OperatorPlan) {}

  /** Whether entries of `state` are re-keyed, so may collide. */
  tracks(state: StatePlan): boolean {
    return this.plan.rekey || state.rekeyMapKeys;
  }

  /** The collision `raw` (decoded as `entry`, written as `next`) makes with an earlier entry, if any. */
  check(raw: RawEntry, entry: DecodedEntry, next: RekeyedBytes, remedy?: string): KeyCollisionError | undefined {
    if (!this.tracks(entry.state)) return undefined;
    const isMap = entry.state.type === 'map';
    const other = this.tracker.collides(
      raw.state,
      isMap ? [next.key, next.namespace, next.mapKey] : [next.key, next.namespace],
      isMap ? [raw.key, raw.namespace, raw.mapKey] : [raw.key, raw.namespace],
    );
    if (!other) return undefined;
    const { metadata, uid } = this.plan;
    if (isMap && sameBytes(other[0], raw.key) && sameBytes(other[1], raw.namespace)) {
      const reader = entry.state.metadata!.mapKey!.restoreSerializer();
      return keyCollisionError(uid, entry.state.state, 'map key', entry.mapKey, [other[2], raw.mapKey].map((k) => describeKeyBytes(reader, k)), remedy);
    }
    const keyReader = metadata!.key.restoreSerializer();
    const namespaceReader = metadata!.namespace?.restoreSerializer();
    const describe = (key: Uint8Array, namespace: Uint8Array) =>
      namespaceReader ? `${describeKeyBytes(keyReader, key)} (namespace ${describeKeyBytes(namespaceReader, namespace)})` : describeKeyBytes(keyReader, key);
    return keyCollisionError(uid, entry.state.state, 'key', entry.key, [describe(other[0], other[1]), describe(raw.key, raw.namespace)], remedy);
  }
}
