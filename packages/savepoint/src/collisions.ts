/**
 * Key collisions while re-keying: when keys, namespaces or map keys migrate, two old keys may become
 * one new key. Nothing may be dropped silently, so every path that re-keys (backend restores, offline
 * rewrites, the deep dry-run) records where each new key came from and refuses a second origin,
 * unless the state gives `mergeOnCollision`.
 */
import { KeyCollisionError, formatKey } from '@stateshift/core';

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

export class CollisionTracker {
  private readonly origins = new Map<string, string>();

  /**
   * Records that the entry at `newKey` of state `state` came from `oldKey` (bytes). Returns true when
   * another old key already produced the same new key: a collision.
   */
  collides(state: number, newKey: Uint8Array, oldKey: Uint8Array): boolean {
    const id = `${state}:${latin1(newKey)}`;
    const old = latin1(oldKey);
    const seen = this.origins.get(id);
    if (seen === undefined) {
      this.origins.set(id, old);
      return false;
    }
    return seen !== old;
  }
}

/** The error for two old keys that became one new key, naming operator, state and the keys. */
/** `oldKeys` as already formatted for the message (see describeKeyBytes). */
export function keyCollisionError(operator: string, state: string, what: 'key' | 'map key', newKey: unknown, oldKeys: string[]): KeyCollisionError {
  return new KeyCollisionError(
    operator,
    state,
    `operator "${operator}" state "${state}": the old ${what}s ${oldKeys.join(' and ')} both become the new ${what} ${formatKey(newKey)} ` +
      `after migration, so one value would be lost. Make the ${what} converter keep them apart, or give the state ` +
      'mergeOnCollision(a, b) to merge their values.',
  );
}
