/**
 * Copying a savepoint's entries into LevelDB as bytes (a restore, the in-place copy pass).
 *
 * Entries are walked where they lie in verified blocks (an EntryCursor, no object per entry); each
 * LevelDB key and value is built in one scratch buffer, which can be reused at once because a
 * batch copies what it is given. Batches are written one behind the other: the next batch fills
 * on the main thread while LevelDB writes the previous one on its own.
 */
import { DataInput, DataOutput, putVarUint, varUintLength } from '@stateshift/core';
import { EntryCursor, type EntryBlock } from '@stateshift/savepoint';
import type { LsmState } from './backend.js';
import { entryKeyOf, latin1, startsWith, versioned } from './layout.js';
import type { Db } from './local-metadata.js';

/** A chained batch, written with abstract-level's `_write` so that it stays open to be cleared and filled again. */
type ReusableBatch = ReturnType<Db['batch']> & { _write(options: object): Promise<void> };

/**
 * Puts gathered into batches of `size`, at most one batch being written while the next fills.
 *
 * Two chained batches take turns, each cleared once written and filled again. A batch's public
 * `write()` closes it, and classic-level frees a closed batch's native memory only when V8 collects
 * its object, which V8 cannot see: a fresh batch per 5 000 entries left a restore of 5M entries with
 * 100+ MiB of written batches waiting for collection. Writing through `_write` (abstract-level's
 * private API, which classic-level implements) keeps the batch open; `clear()` empties it.
 */
export class BatchPipeline {
  private batch: ReusableBatch;
  private spare: ReusableBatch;
  private filled = 0;
  private writing: Promise<void> | undefined;

  constructor(
    db: Db,
    private readonly size: number,
  ) {
    this.batch = db.batch() as ReusableBatch;
    this.spare = db.batch() as ReusableBatch;
  }

  /** Adds a put; returns a promise (await it before the next put) when the writer is a batch behind. */
  put(key: Uint8Array, value: Uint8Array): Promise<void> | undefined {
    this.batch.put(key, value);
    if (++this.filled >= this.size) return this.flush();
    return undefined;
  }

  /** Starts writing the filled batch; resolves once the batch before it is written (and ready to fill). */
  async flush(): Promise<void> {
    const previous = this.writing;
    if (this.filled) {
      const batch = this.batch;
      const written = batch._write({}).then(() => void batch.clear());
      // Awaited by the next flush or by drain(); never left unhandled meanwhile.
      written.catch(() => undefined);
      this.writing = written;
      await previous;
      this.batch = this.spare;
      this.spare = batch;
      this.filled = 0;
    } else await previous;
  }

  /** Writes what is left and waits until every batch is written; more puts may follow. */
  async drain(): Promise<void> {
    await this.flush();
    await this.writing;
    this.writing = undefined;
  }

  /** Drops both batches (after `drain()`, or after a failure: a batch being written is waited for). */
  async close(): Promise<void> {
    await this.writing?.catch(() => undefined);
    await Promise.all([this.batch.close(), this.spare.close()]).catch(() => undefined);
  }
}

/** What may keep an entry out of LevelDB, or change its bytes on the way (the copy pass). */
export interface CopyFilter {
  /** True leaves the entry alone (LevelDB has a newer one). */
  skip(key: Uint8Array): boolean;
  /** The value to store for a state's stored value (a TTL change migrates as it copies). */
  convert?(state: LsmState, value: Uint8Array): Uint8Array;
}

/**
 * Writes the entries of verified blocks into LevelDB as a state stores them: values and map entries
 * straight from the block into one reused buffer, a list's consecutive elements joined into one
 * entry. Call `block()` for each block in file order and `end()` after the last. Nothing of a block
 * is kept once `block()` returns (a list's elements are copied), so blocks may be transient.
 */
export class EntryWriter {
  private scratch = new Uint8Array(1 << 16);
  private readonly cursor = new EntryCursor();
  private list: { key: Uint8Array; state: LsmState; parts: { version: number; bytes: Uint8Array }[] } | undefined;
  /**
   * The lists begun so far, to find a list whose elements come in two runs. Entries come in
   * key-group order within a file, so the lists of a key group are forgotten once the entries move
   * on to another (memory stays within one key group's lists), except where `shared` says another
   * file may hold more of the state's key group: those are kept to the end.
   */
  private readonly listsHere = new Set<string>();
  private readonly listsShared = new Set<string>();
  private listsKeyGroup = -1;
  /** The (state, key group) pairs of `listsHere`, and those the entries moved on from. */
  private readonly pairsHere = new Set<number>();
  private readonly pairsLeft = new Set<number>();
  /** Entries written at an older version than their state's newest, per state (when counted). */
  readonly old = new Map<LsmState, number>();
  filter: CopyFilter | undefined;

  constructor(
    private readonly pipeline: BatchPipeline,
    /** The backend's state per savepoint state index (none: a state the job dropped). */
    private readonly states: readonly (LsmState | undefined)[],
    /** A list whose elements are not stored together: the error to throw. */
    private readonly scattered: (state: LsmState) => Error,
    /** Count the entries at older versions in `old` (a restore records them for its migration). */
    private readonly countOld = false,
    /** Per savepoint state index, the key groups that other files of the operator may also hold (keyGroupsInSeveralFiles). */
    private readonly shared: ReadonlyMap<number, ReadonlySet<number>> = new Map(),
  ) {}

  async block(block: EntryBlock): Promise<void> {
    const cursor = this.cursor;
    for (cursor.reset(block); cursor.next(); ) {
      const state = this.states[cursor.state];
      if (!state) continue;
      const type = state.slot.descriptor.type;
      if (type === 'list') await this.listElement(state);
      else {
        const waiting = this.put(state, type === 'map');
        if (waiting) await waiting;
      }
    }
  }

  /** Writes the list still being gathered. */
  async end(): Promise<void> {
    const list = this.list;
    if (!list) return;
    this.list = undefined;
    const value = joinList(list.state, list.parts);
    if (!this.filter?.skip(list.key)) await this.write(list.state, list.key, this.filter?.convert ? this.filter.convert(list.state, value) : value);
  }

  private async listElement(state: LsmState): Promise<void> {
    const cursor = this.cursor;
    const key = entryKeyOf(state.id, cursor.keyGroup, cursor.key(), cursor.namespace());
    const part = { version: cursor.version, bytes: cursor.value().slice() };
    if (this.list && this.list.key.length === key.length && startsWith(key, this.list.key)) {
      this.list.parts.push(part);
      return;
    }
    await this.end();
    this.beginList(state, cursor.state, cursor.keyGroup, latin1(key));
    this.list = { key, state, parts: [part] };
  }

  /** Notes a list's first run; a second run of the same list throws `scattered`. */
  private beginList(state: LsmState, stateIndex: number, keyGroup: number, id: string): void {
    if (keyGroup !== this.listsKeyGroup) {
      for (const pair of this.pairsHere) this.pairsLeft.add(pair);
      this.pairsHere.clear();
      this.listsHere.clear();
      this.listsKeyGroup = keyGroup;
    }
    let lists = this.listsShared;
    if (!this.shared.get(stateIndex)?.has(keyGroup)) {
      // Key groups are at most 2^15: the pair fits a number exactly.
      const pair = stateIndex * 0x8000 + keyGroup;
      // Back in a key group the entries had left: more of its lists could be runs of forgotten ones.
      if (this.pairsLeft.has(pair)) throw this.scattered(state);
      this.pairsHere.add(pair);
      lists = this.listsHere;
    }
    if (lists.has(id)) throw this.scattered(state);
    lists.add(id);
  }

  private write(state: LsmState, key: Uint8Array, value: Uint8Array): Promise<void> | undefined {
    if (this.countOld && versionOf(value) !== state.newest) this.old.set(state, (this.old.get(state) ?? 0) + 1);
    return this.pipeline.put(key, value);
  }

  /**
   * Puts the cursor's entry as `state` stores it: key = state id, key group, then key and namespace
   * exactly as the block holds them (each length-prefixed), then the map key bytes for a map state;
   * value = the schema version, then the value bytes (the local layout, see layout.ts).
   */
  private put(state: LsmState, withMapKey: boolean): Promise<void> | undefined {
    const cursor = this.cursor;
    const stateId = state.id;
    const src = cursor.payload;
    const mapKeyLength = withMapKey ? cursor.mapKeyEnd - cursor.mapKeyStart : 0;
    const keyLength = 4 + cursor.namespaceEnd - cursor.keyHead + mapKeyLength;
    const version = cursor.version;
    const valueLength = varUintLength(version) + cursor.valueEnd - cursor.valueStart;
    if (keyLength + valueLength > this.scratch.length) this.scratch = new Uint8Array(2 * (keyLength + valueLength));
    const out = this.scratch;
    const keyGroup = cursor.keyGroup;
    out[0] = stateId >> 8;
    out[1] = stateId & 0xff;
    out[2] = keyGroup >> 8;
    out[3] = keyGroup & 0xff;
    let at = copyRun(src, cursor.keyHead, cursor.namespaceEnd, out, 4);
    if (withMapKey) at = copyRun(src, cursor.mapKeyStart, cursor.mapKeyEnd, out, at);
    copyRun(src, cursor.valueStart, cursor.valueEnd, out, putVarUint(out, at, version));
    const key = out.subarray(0, keyLength);
    const value = out.subarray(keyLength, keyLength + valueLength);
    const filter = this.filter;
    if (filter?.skip(key)) return undefined;
    return this.write(state, key, filter?.convert ? filter.convert(state, value) : value);
  }
}

function versionOf(value: Uint8Array): number {
  return value[0] < 0x80 ? value[0] : new DataInput(value).readVarUint();
}

/** A list's elements as one value: as stored when they share a version, else read and written at the newest. */
export function joinList(state: LsmState, parts: { version: number; bytes: Uint8Array }[]): Uint8Array {
  const version = parts[0].version;
  if (parts.every((p) => p.version === version)) {
    const total = parts.reduce((n, p) => n + p.bytes.length, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      joined.set(p.bytes, at);
      at += p.bytes.length;
    }
    return versioned(version, joined);
  }
  const out = new DataOutput(256);
  out.writeVarUint(state.newest);
  for (const p of parts) state.slot.writer.serialize(state.readers.get(p.version)!.deserialize(new DataInput(p.bytes)), out);
  return out.toBytes();
}

/** Copies `src[from, to)` to `out` at `at`; returns where it ends. Short runs (most keys) by hand. */
function copyRun(src: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  const n = to - from;
  if (n <= 32) for (let i = 0; i < n; i++) out[at + i] = src[from + i];
  else out.set(src.subarray(from, to), at);
  return at + n;
}
