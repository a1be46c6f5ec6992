/**
 * Key collisions while re-keying: when keys, namespaces or map keys migrate, two old keys may become
 * one new key. Nothing may be dropped silently, so every path that re-keys (backend restores, offline
 * rewrites, the deep dry-run) finds where each new key came from and refuses a second origin,
 * unless the state gives `mergeOnCollision`.
 */
import { ConverterError, DataInput, DataOutput, EncodeError, KeyCollisionError, formatKey, murmur3_32, type Serializer, type TtlValue } from '@stateshift/core';
import { compareBytes, sameBytes } from './byte-order.js';
import type { RawEntry } from './data-file.js';
import { describeKeyBytes, type DecodedEntry } from './decode-entries.js';
import { EntrySorter, type EntryOrder } from './manage/entry-sorter.js';
import type { OperatorPlan, StatePlan } from './restore-plan.js';

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** One id for several byte strings (key, namespace, map key), each length-prefixed so no two join alike. */
const idOf = (parts: Uint8Array[]) => parts.map((p) => `${p.byteLength}:${latin1(p)}`).join('');

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

/** An entry's key, namespace and map key as the new job writes them. */
export interface RekeyedBytes {
  key: Uint8Array;
  namespace: Uint8Array;
  mapKey: Uint8Array;
}

/** A collision found by OperatorCollisions: the entry of a second old key, with the error for it. */
export interface FoundCollision {
  state: StatePlan;
  /** The colliding entry's old key, namespace and map key. */
  old: Pick<RawEntry, 'key' | 'namespace' | 'mapKey'>;
  error: KeyCollisionError;
}

/**
 * Collision records: by what the entry becomes (in `key`: a hash of the rest, which ranks them, then
 * state, new key, namespace and map key), then the old key (in `value`).
 */
const byNewKey: EntryOrder = {
  rank: ({ key: k }) => ((k[0] << 24) | (k[1] << 16) | (k[2] << 8) | k[3]) >>> 0,
  compare: (a, b) => compareBytes(a.key, b.key) || compareBytes(a.value, b.value),
};

const EMPTY = new Uint8Array(0);
const HASH_PLACEHOLDER = new Uint8Array(4);

/**
 * The collisions among one operator's re-keyed entries, found in bounded memory: what offline
 * rewrites and the deep dry-run share. Each entry of a state whose keys, namespaces or map keys
 * change bytes (the others cannot collide) adds a record, its new key and the old key it came from,
 * to an external sort; records of one new key are then adjacent, and a new key reached from two old
 * keys is a collision. Values are not recorded.
 */
export class OperatorCollisions {
  private readonly sorter: EntrySorter;
  private readonly target = new DataOutput(64);
  private readonly origin = new DataOutput(64);
  private readonly bySavepointIndex = new Map<number, StatePlan>();
  private recorded = 0;

  constructor(
    private readonly plan: OperatorPlan,
    sortBufferBytes?: number,
  ) {
    this.sorter = new EntrySorter(1, sortBufferBytes, byNewKey);
    for (const s of plan.states) if (s.status === 'restored') this.bySavepointIndex.set(s.savepointIndex!, s);
  }

  /** Whether entries of `state` are re-keyed, so may collide. */
  tracks(state: StatePlan): boolean {
    return this.plan.rekey || state.rekeyMapKeys;
  }

  /**
   * Records that the stored entry `raw` becomes `next` (its new key, namespace and map key); the
   * bytes are copied. Returns a promise when records were spilled to disk: await it.
   */
  add(raw: RawEntry, next: RekeyedBytes): Promise<void> | undefined {
    const isMap = this.bySavepointIndex.get(raw.state)!.type === 'map';
    const { target, origin } = this;
    target.reset();
    target.writeRaw(HASH_PLACEHOLDER);
    target.writeVarUint(raw.state);
    target.writeBytes(next.key);
    target.writeBytes(next.namespace);
    target.writeBytes(isMap ? next.mapKey : EMPTY);
    const bytes = target.peek();
    const hash = murmur3_32(bytes.subarray(4));
    bytes[0] = hash >>> 24;
    bytes[1] = hash >>> 16;
    bytes[2] = hash >>> 8;
    bytes[3] = hash;
    origin.reset();
    origin.writeBytes(raw.key);
    origin.writeBytes(raw.namespace);
    origin.writeBytes(isMap ? raw.mapKey : EMPTY);
    this.recorded++;
    return this.sorter.add(0, { state: raw.state, keyGroup: 0, key: bytes, namespace: EMPTY, mapKey: EMPTY, version: 1, value: origin.peek() });
  }

  /**
   * Every collision among the recorded entries, in the order of their new keys: each entry whose new
   * key an entry of another old key reaches too (the first old key of a new key is not one).
   * `remedy` replaces the default advice in the errors. With `repeated`, a record added twice (one
   * old key reaching one new key again) throws the error it returns for the record's state, if any:
   * for callers that record once per run of entries that must not be split.
   */
  async *collisions(remedy?: string, repeated?: (state: StatePlan) => Error | undefined): AsyncGenerator<FoundCollision> {
    if (!this.recorded) return;
    let first: RawEntry | undefined;
    for await (const block of this.sorter.sorted(0)) {
      for (const record of block) {
        if (first && sameBytes(first.key, record.key)) {
          // Sorted by old key within a new key: a repeat of a later old key follows a collision.
          if (!sameBytes(first.value, record.value)) yield this.found(first, record, remedy);
          else if (repeated) {
            const error = repeated(this.bySavepointIndex.get(record.state)!);
            if (error) throw error;
          }
          continue;
        }
        first = record;
      }
      // The next block may be read into the bytes this one's records are views of.
      if (first) first = copyRecord(first);
    }
  }

  /** Removes what the sort spilled to disk. */
  dispose(): Promise<void> {
    return this.sorter.dispose();
  }

  private found(first: RawEntry, second: RawEntry, remedy: string | undefined): FoundCollision {
    const state = this.bySavepointIndex.get(second.state)!;
    const [a, b] = [keysOf(first.value), keysOf(second.value)];
    const target = keysOf(second.key.subarray(4), true);
    const { metadata, uid } = this.plan;
    if (state.type === 'map' && sameBytes(a.key, b.key) && sameBytes(a.namespace, b.namespace)) {
      const reader = state.metadata!.mapKey!.restoreSerializer();
      const mapKey = state.mapKeyWriter!.deserialize(new DataInput(target.mapKey));
      return { state, old: b, error: keyCollisionError(uid, state.state, 'map key', mapKey, [a.mapKey, b.mapKey].map((k) => describeKeyBytes(reader, k)), remedy) };
    }
    const keyReader = metadata!.key.restoreSerializer();
    const namespaceReader = metadata!.namespace?.restoreSerializer();
    const describe = (o: Pick<RawEntry, 'key' | 'namespace'>) =>
      namespaceReader ? `${describeKeyBytes(keyReader, o.key)} (namespace ${describeKeyBytes(namespaceReader, o.namespace)})` : describeKeyBytes(keyReader, o.key);
    const key = this.plan.keyWriter!.deserialize(new DataInput(target.key));
    return { state, old: b, error: keyCollisionError(uid, state.state, 'key', key, [describe(a), describe(b)], remedy) };
  }
}

/** A record kept past its block. */
const copyRecord = (r: RawEntry): RawEntry => ({ ...r, key: r.key.slice(), namespace: r.namespace.slice(), mapKey: r.mapKey.slice(), value: r.value.slice() });

/** Key, namespace and map key as a record holds them: the old ones in its value, the new ones after the state in its key. */
function keysOf(bytes: Uint8Array, withState = false): Pick<RawEntry, 'key' | 'namespace' | 'mapKey'> {
  const input = new DataInput(bytes);
  if (withState) input.readVarUint();
  const read = () => input.readRaw(input.readVarUint());
  return { key: read(), namespace: read(), mapKey: read() };
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
