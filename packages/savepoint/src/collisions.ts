/**
 * Key collisions while re-keying: when keys, namespaces or map keys migrate, two old keys may become
 * one new key. Nothing may be dropped silently, so every path that re-keys (backend restores, offline
 * rewrites, the deep dry-run) records where each new key came from and refuses a second origin,
 * unless the state gives `mergeOnCollision`.
 */
import { ConverterError, DataOutput, EncodeError, KeyCollisionError, formatKey, type Serializer, type TtlValue } from '@stateshift/core';
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

/** One new key of a merging state: its bytes, its decoded entry, and its stored values per old key. */
interface MergeGroup {
  next: RekeyedBytes;
  entry: DecodedEntry;
  /** Old key (and map key) to the stored values it brought (value and map state: one; list state: the elements). */
  origins: Map<string, unknown[]>;
}

/** A new key of a merging state and the stored values each old key brought (value and map state: one each; list state: the elements). */
export interface MergeRow {
  next: RekeyedBytes;
  entry: DecodedEntry;
  origins: unknown[][];
}

/**
 * The entries of one re-keyed state that gives `mergeOnCollision`, held until the state is read
 * whole (a later entry may collide with an earlier one), then merged as a restore merges them
 * (TTL values by their values, keeping the later timestamp), the output checked with the state's
 * writer. Holds the state in memory, as a backend restore does.
 */
export class CollisionMerger {
  private readonly groups = new Map<string, MergeGroup>();

  constructor(
    private readonly operator: string,
    readonly state: StatePlan,
  ) {}

  add(raw: RawEntry, entry: DecodedEntry, next: RekeyedBytes): void {
    const isMap = this.state.type === 'map';
    const id = idOf(isMap ? [next.key, next.namespace, next.mapKey] : [next.key, next.namespace]);
    let group = this.groups.get(id);
    if (!group) this.groups.set(id, (group = { next, entry, origins: new Map() }));
    const origin = idOf(isMap ? [raw.key, raw.namespace, raw.mapKey] : [raw.key, raw.namespace]);
    const values = group.origins.get(origin);
    if (values) values.push(entry.value);
    else group.origins.set(origin, [entry.value]);
  }

  /** Every new key with what each old key brought, in no particular order. */
  *rows(): Generator<MergeRow> {
    for (const group of this.groups.values()) yield { next: group.next, entry: group.entry, origins: [...group.origins.values()] };
  }

  /**
   * The stored values of a row, merged where old keys met; throws ConverterError for a merge that
   * throws or returns what the writer cannot write.
   */
  stored(row: MergeRow): unknown[] {
    return row.origins.length === 1 ? row.origins[0] : this.merge(row.entry, row.origins);
  }

  private merge(entry: DecodedEntry, lists: unknown[][]): unknown[] {
    const descriptor = this.state.descriptor!;
    return mergeCollided(`operator "${this.operator}" state "${this.state.state}" key ${formatKey(entry.key)}`, {
      merge: descriptor.options.mergeOnCollision as (a: unknown, b: unknown) => unknown,
      ttl: !!descriptor.options.ttl,
      list: this.state.type === 'list',
      writer: this.state.writer!,
    }, lists);
  }
}

/**
 * The stored values that old keys colliding on one new key become: `merge` folded over what each
 * brought (a value state's values, a list state's lists, a map state's values of one map key); with
 * a TTL on the values, keeping the latest timestamp. Its output is checked with the state's writer:
 * a merge that throws or returns what the writer cannot write is a ConverterError naming `where`.
 * Offline rewrites, the deep dry-run and backend restores all merge through this.
 */
export function mergeCollided(
  where: string,
  how: { merge: (a: unknown, b: unknown) => unknown; ttl: boolean; list: boolean; writer: Serializer<unknown> },
  lists: unknown[][],
): unknown[] {
  const call = (a: unknown, b: unknown) => {
    try {
      return how.merge(a, b);
    } catch (error) {
      throw new ConverterError(`${where}: mergeOnCollision threw: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  };
  const timestamp = how.ttl ? Math.max(...lists.flat().map((v) => (v as TtlValue<unknown>).timestamp)) : 0;
  const unwrap = (v: unknown) => (how.ttl ? (v as TtlValue<unknown>).value : v);
  let stored: unknown[];
  if (how.list) {
    const merged = lists.map((l) => l.map(unwrap)).reduce((a, b) => call(a, b) as unknown[]);
    if (!Array.isArray(merged)) throw new ConverterError(`${where}: mergeOnCollision must return an array for a list state`);
    stored = merged;
  } else stored = [lists.map((l) => unwrap(l[0])).reduce(call)];
  if (how.ttl) stored = stored.map((value) => ({ value, timestamp }));
  const check = new DataOutput(256);
  for (const value of stored) {
    try {
      check.reset();
      how.writer.serialize(value, check);
    } catch (error) {
      if (!(error instanceof EncodeError)) throw error;
      throw new ConverterError(`${where}: mergeOnCollision returned a value the state's serializer cannot write (${error.message})`, { cause: error });
    }
  }
  return stored;
}
