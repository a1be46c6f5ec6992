/**
 * The LSM backend: state as bytes in LevelDB (classic-level). Everything the backends share
 * (handles, TTL, validation, copy semantics, the restore rules) is `AbstractStateBackend`'s; this
 * file keeps entries in LevelDB behind a write buffer (write-buffer.ts).
 *
 * - Point access is synchronous: writes go to the buffer, reads to the buffer then `getSync`.
 * - A value or map value is one entry; a list is one entry holding every element.
 * - Entries carry their schema version id: states compatible after migration are rewritten eagerly
 *   when the backend opens (a resumable pass) or lazily (reads decode through their version's
 *   reader, writes use the newest), optionally with a background pass.
 * - A restore copies the savepoint's bytes as they are (decoding only to re-key); an interrupted
 *   restore is detected on the next open.
 */
import {
  BackendLockedError,
  ConverterError,
  DataInput,
  DataOutput,
  DecodeError,
  formatKey,
  keyGroupInRange,
  RestoreError,
  snapshotToBytes,
  supports,
  TTL_KIND,
  type BackendOpenOptions,
  type BackendSupports,
  type Deserializer,
  type JobDeclaration,
} from '@stateshift/core';
import { AbstractStateBackend, checkOpenOptions, restoreRekeyed, type ExportCut, type RekeyedRow, type MapEntryWrite, type OperatorSlot, type StateSlot } from '@stateshift/backend';
import {
  keyGroupsInSeveralFiles,
  layoutOfJob,
  openSavepoint,
  planRestore,
  assertRestorable,
  type OperatorPlan,
  type RawEntry,
  type RestorePlan,
  type Savepoint,
  type SavepointLayout,
  type SavepointWriter,
  type SchemaVersion,
  type StatePlan,
} from '@stateshift/savepoint';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { entryKey, entryKeyOf, latin1, lowerBound, startsWith, MAX_STATE_ID, parseKey, prefixEnd, splitRest, statePrefix, versioned } from './layout.js';
import { loadMetadata, markRestoring, metadataOps, restoringFrom, saveMetadata, unmarkRestoring, writeBatch, type BatchOp, type Db, type LocalMetadata } from './local-metadata.js';
import { migrateState, type MigrationProgress } from './migration.js';
import { copyLowerLayer } from './copy-pass.js';
import { BatchPipeline, EntryWriter } from './ingest.js';
import { LowerLayer } from './lower-layer.js';
import { recoverUndoLog, WriteBuffer } from './write-buffer.js';

export type MigrationMode = 'eager' | 'lazy';

export interface LsmOpenOptions<J extends JobDeclaration = JobDeclaration> extends BackendOpenOptions<J> {
  /** The database directory. Reopening it gives back the last checkpoint, no savepoint needed. */
  dir: string;
  /** How states that must migrate are migrated: one mode, or a default and modes per state ("uid/state" or [uid, state] keys). Default eager. */
  migration?: MigrationMode | { default: MigrationMode; states?: Record<string, MigrationMode> };
  /** Called during eager passes (and the background pass) after every batch. */
  onProgress?(progress: MigrationProgress): void;
  /** Lazy mode: a background pass migrates the rest, at most `rate` entries per second (0: no limit). */
  backgroundMigration?: { rate?: number };
  /** Checkpoints sync LevelDB's log to disk, so they survive power loss, not only a process crash. Default true. */
  sync?: boolean;
  /** Buffered writes before they are written to LevelDB ahead of a checkpoint (undoable until it). Default 50000. */
  writeBufferSize?: number;
  /**
   * How `restoreFrom` is restored: 'copy' (default) copies every entry into LevelDB before the
   * backend opens; 'in-place' opens at once and reads the savepoint's files where they lie (a
   * directory, or S3 by ranged reads), copying them in with a background pass; states that must
   * migrate migrate lazily and in that pass. A restore whose keys migrate (re-keying) is copied in
   * any case.
   */
  restore?: 'copy' | 'in-place';
  /** In-place restores: entries per second the background copy pass copies (0 or absent: no limit). */
  copyRate?: number;
  /** In-place restores from object storage (S3): how long one read of the savepoint may block, in ms. Default 30 000. */
  inPlaceReadTimeout?: number;
}

/** What the backend keeps per state: its id, and how each stored schema version reads. */
export interface LsmState {
  id: number;
  slot: StateSlot;
  /** The version id new writes carry. */
  newest: number;
  /** Per version id: a reader giving the newest shape (TTL-wrapped where the state has a TTL). */
  readers: Map<number, Deserializer<unknown>>;
  /** Per version id: that version's own serializer, to split list values into elements. */
  splitters: Map<number, Deserializer<unknown>>;
  /** Versions whose values begin with a TTL timestamp. */
  ttlVersions: Set<number>;
  versions: SchemaVersion[];
  /** Versions no entry uses any more, retired from the metadata at the next checkpoint. */
  retire?: SchemaVersion[];
}

/** What the backend uses of a LevelDB iterator. */
interface EntryIterator {
  nextv(size: number): Promise<[Uint8Array, Uint8Array][]>;
  close(): Promise<void>;
}

interface LsmCut extends ExportCut {
  ready: Promise<EntryIterator[] | undefined>;
  now: number;
}

const BATCH = 1000;
const INGEST_BATCH = 5000;

function modeOf(options: LsmOpenOptions, uid: string, state: string): MigrationMode {
  const m = options.migration ?? 'eager';
  if (typeof m === 'string') return m;
  return m.states?.[`${uid}/${state}`] ?? m.default;
}

export class LsmBackend<J extends JobDeclaration = JobDeclaration> extends AbstractStateBackend<J> {
  readonly supports: BackendSupports = supports({ persistence: true, lazyMigration: true, keepsOldVersions: true, backgroundMigration: true, inPlaceRestore: true });
  readonly buffer: WriteBuffer;
  /** Per state slot index. */
  readonly states: LsmState[] = [];
  readonly byId = new Map<number, LsmState>();
  meta!: LocalMetadata;
  /** The lazy mode's background pass, when one runs. */
  background?: BackgroundMigration;
  /** A savepoint read in place under LevelDB, until the copy pass has copied it in. */
  lower?: LowerLayer;
  /** The background pass that copies the lower layer in. */
  copying?: BackgroundMigration;
  /** The copy pass is done: the lower layer is dropped at the next checkpoint. */
  private lowerCopied = false;

  constructor(
    readonly db: Db,
    private readonly options: LsmOpenOptions<J>,
  ) {
    super(options);
    this.buffer = new WriteBuffer(db, options.writeBufferSize ?? 50_000, () => this.meta.checkpoint + 1);
  }

  /** The whole entry key (and its id) of a key in a state; for map state with `suffix` the map key. */
  private keyOf(state: LsmState, key: unknown, namespace: unknown, suffix?: Uint8Array): [Uint8Array, string] {
    const at = state.slot.operator.locate(key, namespace);
    const bytes = entryKey(state.id, at.keyGroup, at.keyNs, suffix);
    return [bytes, latin1(bytes)];
  }

  /** Decodes a stored value (list: every element) through the reader of its version. */
  private decode(state: LsmState, stored: Uint8Array, key: unknown, list: boolean): unknown {
    const input = new DataInput(stored);
    const version = input.readVarUint();
    const reader = state.readers.get(version);
    if (!reader) {
      throw new DecodeError(`operator "${state.slot.uid}" state "${state.slot.name}" key ${formatKey(key)}: an entry of schema version ${version}, which the local metadata does not list`, 0);
    }
    try {
      if (!list) return reader.deserialize(input);
      const out: unknown[] = [];
      while (!input.atEnd) out.push(reader.deserialize(input));
      return out;
    } catch (error) {
      if (error instanceof ConverterError) throw new ConverterError(`${error.message} (key ${formatKey(key)})`, { cause: error });
      if (error instanceof DecodeError) {
        throw new DecodeError(`operator "${state.slot.uid}" state "${state.slot.name}" key ${formatKey(key)}: ${error.message.replace(/ \(at byte offset \d+\)$/, '')}`, error.offset, { cause: error });
      }
      throw error;
    }
  }

  _get(slot: StateSlot, key: unknown, namespace: unknown): unknown {
    const state = this.states[slot.index];
    const [k, id] = this.keyOf(state, key, namespace);
    const stored = this.buffer.get(k, id);
    return stored && this.decode(state, stored, key, false);
  }

  _put(slot: StateSlot, key: unknown, namespace: unknown, _stored: unknown, encoded: Uint8Array): void {
    const state = this.states[slot.index];
    const [k, id] = this.keyOf(state, key, namespace);
    this.buffer.put(k, id, versioned(state.newest, encoded));
  }

  _delete(slot: StateSlot, key: unknown, namespace: unknown): void {
    const state = this.states[slot.index];
    const [k, id] = this.keyOf(state, key, namespace);
    if (slot.descriptor.type === 'map') this.buffer.clearPrefix(k, id);
    else this.buffer.put(k, id, null);
  }

  _getList(slot: StateSlot, key: unknown, namespace: unknown): unknown[] {
    const state = this.states[slot.index];
    const [k, id] = this.keyOf(state, key, namespace);
    const stored = this.buffer.get(k, id);
    return stored ? (this.decode(state, stored, key, true) as unknown[]) : [];
  }

  _putList(slot: StateSlot, key: unknown, namespace: unknown, _stored: unknown[], encoded: Uint8Array): void {
    const state = this.states[slot.index];
    const [k, id] = this.keyOf(state, key, namespace);
    this.buffer.put(k, id, versioned(state.newest, encoded));
  }

  /** Appending never decodes the list when it is at the newest version: its bytes are extended. */
  _appendList(slot: StateSlot, key: unknown, namespace: unknown, _stored: unknown[], encoded: Uint8Array): void {
    const state = this.states[slot.index];
    const [k, id] = this.keyOf(state, key, namespace);
    const existing = this.buffer.get(k, id);
    if (!existing) return this.buffer.put(k, id, versioned(state.newest, encoded));
    const input = new DataInput(existing);
    if (input.readVarUint() === state.newest) {
      const out = new Uint8Array(existing.length + encoded.length);
      out.set(existing);
      out.set(encoded, existing.length);
      return this.buffer.put(k, id, out);
    }
    // An older version: the list is rewritten at the newest one.
    const added = encoded.slice();
    const old = this.decode(state, existing, key, true) as unknown[];
    this.buffer.put(k, id, versioned(state.newest, slot.encodeInto(old, 'element'), added));
  }

  _getMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): unknown {
    const state = this.states[slot.index];
    const [prefix, prefixId] = this.keyOf(state, key, namespace);
    const full = concat(prefix, mapKeyBytes);
    const stored = this.buffer.get(full, latin1(full), prefixId);
    return stored && this.decode(state, stored, key, false);
  }

  _putMapValues(slot: StateSlot, key: unknown, namespace: unknown, entries: MapEntryWrite[]): void {
    const state = this.states[slot.index];
    const [prefix, prefixId] = this.keyOf(state, key, namespace);
    for (const e of entries) {
      const full = concat(prefix, e.mapKeyBytes);
      this.buffer.put(full, latin1(full), versioned(state.newest, e.encoded), prefixId);
    }
  }

  _deleteMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): void {
    const state = this.states[slot.index];
    const [prefix, prefixId] = this.keyOf(state, key, namespace);
    const full = concat(prefix, mapKeyBytes);
    this.buffer.put(full, latin1(full), null, prefixId);
  }

  _mapEntries(slot: StateSlot, key: unknown, namespace: unknown): AsyncIterable<[unknown, unknown]> {
    const state = this.states[slot.index];
    const [prefix] = this.keyOf(state, key, namespace);
    const mapKeys = slot.mapKeyWriter!;
    return this.scan(prefix, (k, v) => [mapKeys.deserialize(new DataInput(k.subarray(prefix.length))), this.decode(state, v, key, false)] as [unknown, unknown]);
  }

  _keys(slot: StateSlot): AsyncIterable<{ key: unknown; namespace: unknown }> {
    const decl = slot.operator.declaration;
    let last: string | undefined;
    const prefix = statePrefix(this.states[slot.index].id);
    return this.scan(prefix, (k) => {
      const { key, namespace } = splitRest(parseKey(k).rest);
      const keyNs = `${latin1(key)}\u0000${latin1(namespace)}`;
      if (keyNs === last) return undefined;
      last = keyNs;
      return {
        key: decl.keySerializer.deserialize(new DataInput(key)),
        namespace: decl.namespaceSerializer ? decl.namespaceSerializer.deserialize(new DataInput(namespace)) : undefined,
      };
    });
  }

  /** Entries under a prefix as of now: the buffer is written first (undoably), then LevelDB is read. */
  private scan<T>(prefix: Uint8Array, map: (key: Uint8Array, value: Uint8Array) => T | undefined): AsyncIterable<T> {
    const opened = this.buffer.flush((): EntryIterator => this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) }));
    const batches = this.merged(opened, prefix);
    return (async function* () {
      for await (const batch of batches) {
        for (const [k, v] of batch) {
          const item = map(k, v);
          if (item !== undefined) yield item;
        }
      }
    })();
  }

  /**
   * LevelDB's entries under a prefix (a state, or a map) merged with the lower layer's, by key, a
   * batch at a time (a promise per batch, not per entry); LevelDB's shadow the layer's, and its
   * empty values (deletions over the layer) are left out.
   */
  private async *merged(opened: Promise<EntryIterator | undefined>, prefix: Uint8Array): AsyncGenerator<[Uint8Array, Uint8Array][]> {
    const iterator = (await opened)!;
    const lower = this.lower;
    const stateId = (prefix[0] << 8) | prefix[1];
    const groups = lower ? (prefix.length >= 4 ? [(prefix[2] << 8) | prefix[3]] : lower.keyGroups(stateId)) : [];
    let group = { keys: [] as Uint8Array[], values: [] as Uint8Array[] };
    let g = 0;
    let j = 0;
    const peek = (): Uint8Array | undefined => {
      while (j >= group.keys.length && g < groups.length) {
        group = lower!.entries(stateId, groups[g++]);
        j = lowerBound(group.keys, prefix);
      }
      const key = group.keys[j];
      return key && startsWith(key, prefix) ? key : undefined;
    };
    // The next batch is read while this one is used.
    let reading: Promise<[Uint8Array, Uint8Array][]> | undefined = iterator.nextv(BATCH);
    try {
      for (;;) {
        const batch: [Uint8Array, Uint8Array][] = await reading;
        reading = undefined;
        if (!batch.length) break;
        reading = iterator.nextv(BATCH);
        if (!lower && batch.every(([, v]) => v.length)) {
          yield batch;
          continue;
        }
        const out: [Uint8Array, Uint8Array][] = [];
        for (const [k, v] of batch) {
          let lk: Uint8Array | undefined;
          while ((lk = peek()) && Buffer.compare(lk, k) < 0) out.push([lk, group.values[j++]]);
          if (lk && Buffer.compare(lk, k) === 0) j++;
          if (v.length) out.push([k, v]);
        }
        yield out;
      }
      const rest: [Uint8Array, Uint8Array][] = [];
      let lk: Uint8Array | undefined;
      while ((lk = peek())) rest.push([lk, group.values[j++]]);
      if (rest.length) yield rest;
    } finally {
      await reading?.catch(() => undefined);
      await iterator.close();
    }
  }

  protected async _checkpoint(position: Uint8Array | undefined): Promise<void> {
    const next: LocalMetadata = { ...this.meta, checkpoint: this.meta.checkpoint + 1, ...(position ? { position } : {}) };
    if (!position) delete next.position;
    let retired = false;
    for (const state of this.states) {
      if (!state.retire) continue;
      state.versions = state.versions.filter((v) => !state.retire!.includes(v));
      delete state.retire;
      this.layoutState(state).versions = state.versions;
      retired = true;
    }
    // The copy pass is done: the lower layer goes with this checkpoint (not before: until a checkpoint
    // commits, a crash may undo writes that shadow it).
    const dropping = this.lowerCopied && this.lower;
    if (dropping) {
      delete next.lower;
      retired = true;
    }
    const committing = this.buffer.commit(metadataOps(next, retired), this.options.sync ?? true);
    this.meta = next;
    await committing;
    if (dropping) this.dropLower();
  }

  /** Reads no longer go to the savepoint; its files are closed. Tombstones are left to be overwritten. */
  private dropLower(): void {
    this.buffer.underlay = undefined;
    this.lower?.close();
    this.lower = undefined;
    this.lowerCopied = false;
  }

  /** Attaches a savepoint read in place and starts the pass that copies it in. */
  /** `fresh`: just restored, so LevelDB holds none of the states' keys yet. */
  private async attachLower(savepoint: Savepoint, states: [string, number, number][], fresh = false): Promise<void> {
    const byUid = new Map<string, Map<number, LsmState>>();
    for (const [uid, index, id] of states) {
      const state = this.byId.get(id);
      if (!state) continue;
      if (!byUid.has(uid)) byUid.set(uid, new Map());
      byUid.get(uid)!.set(index, state);
    }
    const lower = await LowerLayer.open(savepoint, byUid, this.keyGroupRange, { timeoutMs: this.options.inPlaceReadTimeout });
    this.lower = lower;
    this.buffer.underlay = {
      get: (key) => lower.get((key[0] << 8) | key[1], (key[2] << 8) | key[3], key),
      keysUnder: (prefix) => {
        const { keys } = lower.entries((prefix[0] << 8) | prefix[1], (prefix[2] << 8) | prefix[3]);
        return keys.filter((k) => startsWith(k, prefix));
      },
    };
    const rate = this.options.copyRate ?? 0;
    this.copying = new BackgroundMigration(async (control) => {
      await copyLowerLayer(this, lower, { rate, control, fresh });
      this.lowerCopied = true;
      // Everything is in LevelDB now: older versions migrate as in lazy mode (with its background pass, if asked for).
      if (!control.stopping) await this.migrate(undefined);
    });
    // A failure of the pass (a damaged block) surfaces where it is read; the pass stops.
    this.copying.done.catch(() => undefined);
  }

  protected _beginExport(): LsmCut {
    // One iterator per state, all made in one synchronous step after the flush: one cut.
    return {
      ready: this.buffer.flush(() => this.states.map((state): EntryIterator => this.db.iterator({ gte: statePrefix(state.id), lt: prefixEnd(statePrefix(state.id)) }))),
      now: this.now(),
    };
  }

  /** One data file per state, entries as stored (with their version ids); lists split into elements. */
  protected async _exportState(writer: SavepointWriter, cut: ExportCut): Promise<void> {
    const { ready, now } = cut as LsmCut;
    const iterators = (await ready)!;
    const empty = new Uint8Array(0);
    for (const state of this.states) {
      const batches = this.merged(Promise.resolve(iterators[state.slot.index]), statePrefix(state.id));
      // Entries at a version whose TTL differs from the newest are written at the newest: a stored
      // timestamp must not outlive the versions that gave it meaning (TTL turned off, then on).
      const convert = ttlChanged(state) ? newestBytes(state) : undefined;
      let file: Awaited<ReturnType<SavepointWriter['openDataFile']>> | undefined;
      const type = state.slot.descriptor.type;
      for await (const batch of batches) {
        for (const [key, value] of batch) {
          const { keyGroup, rest } = parseKey(key);
          if (!keyGroupInRange(keyGroup, this.keyGroupRange)) continue;
          file ??= await writer.openDataFile(state.slot.uid, this.keyGroupRange, `s${state.slot.stateIndex}`);
          const parts = splitRest(rest);
          const input = new DataInput(convert ? convert(value) : value);
          const version = input.readVarUint();
          const ttl = state.ttlVersions.has(version) ? state.slot.ttl : undefined;
          const entry: RawEntry = { state: state.slot.stateIndex, keyGroup, key: parts.key, namespace: parts.namespace, mapKey: type === 'map' ? parts.suffix : empty, version, value: empty };
          // The writer copies an entry before it returns: one object serves every element of a list.
          const append = (bytes: Uint8Array) => {
            if (ttl && ttl.ttlMs + new DataInput(bytes).readVarUint() <= now) return undefined;
            entry.value = bytes;
            return file!.append(entry);
          };
          if (type === 'list') {
            // A list's elements one by one, each its own entry.
            const splitter = state.splitters.get(version)!;
            while (!input.atEnd) {
              const start = input.offset;
              splitter.deserialize(input);
              const flushing = append(input.bytes.subarray(start, input.offset));
              if (flushing) await flushing;
            }
          } else {
            const flushing = append(input.bytes.subarray(input.offset));
            if (flushing) await flushing;
          }
        }
      }
      if (file) await writer.closeDataFile(file);
    }
  }

  protected override savepointLayout(): SavepointLayout {
    const layout = layoutOfJob(this.job);
    for (const state of this.states) {
      const target = layout.operators[state.slot.operator.index].states[state.slot.stateIndex];
      target.versions = state.versions;
      if (state.slot.mapKeyWriter) target.mapKey = state.slot.mapKeyWriter.snapshot();
    }
    return layout;
  }

  private layoutState(state: LsmState) {
    return this.meta.layout.operators[state.slot.operator.index].states[state.slot.stateIndex];
  }

  protected async _close(): Promise<void> {
    await this.background?.stop();
    await this.copying?.stop();
    try {
      await this.buffer.settle();
    } finally {
      this.lower?.close();
      await this.db.close();
    }
  }

  /** After a pass: versions other than the newest are retired at the next checkpoint. */
  retireOldVersions(state: LsmState): void {
    const old = state.versions.filter((v) => v.id !== state.newest);
    if (old.length) state.retire = old;
    if (this.meta.pending) {
      delete this.meta.pending[state.id];
      if (!Object.keys(this.meta.pending).length) delete this.meta.pending;
    }
  }

  /** Sets up the state ids, version tables and readers, restoring or reopening as the options say. */
  async open(): Promise<void> {
    const { db, options } = this;
    const stored = await loadMetadata(db, options.dir);
    if (stored) await recoverUndoLog(db, stored.checkpoint);
    const interrupted = await restoringFrom(options.dir);
    if (interrupted !== undefined && options.restoreFrom === undefined) {
      // A restore whose last step (the metadata, checkpoint 1) was written is complete.
      if (!stored || stored.checkpoint < 1) {
        throw new RestoreError(
          `${options.dir} holds an interrupted restore from ${interrupted}: open it again with restoreFrom: ${JSON.stringify(interrupted)} ` +
            '(the restore starts over), or remove the directory',
        );
      }
      await unmarkRestoring(options.dir);
    }
    if (options.restoreFrom !== undefined) {
      if (stored && interrupted === undefined) {
        throw new RestoreError(`${options.dir} already holds state; restore a savepoint into an empty directory, or reopen without restoreFrom`);
      }
      // Starting (over): nothing of an interrupted restore is kept.
      if (interrupted !== undefined) await db.clear();
      return this.restore(options.restoreFrom);
    }
    if (stored) return this.reopen(stored);
    this.meta = { layout: { ...layoutOfJob(this.job), createdAt: Date.now(), files: [] }, stateIds: [], checkpoint: 0 };
    this.setUpStates(undefined, undefined);
    await saveMetadata(db, this.meta);
  }

  /** Assigns state ids and reads each state's versions from a plan (none: a fresh state). */
  private setUpStates(plan: RestorePlan | undefined, storedIds: LocalMetadata['stateIds'] | undefined): number[] {
    const ids = this.meta.stateIds;
    const fresh: number[] = [];
    for (const op of this.operatorSlots) {
      const opPlan = plan?.operators.find((o) => o.uid === op.uid && o.status === 'matched');
      for (const slot of op.states.values()) {
        const existing = storedIds?.findIndex((p) => p !== null && p[0] === op.uid && p[1] === slot.name) ?? -1;
        let id = existing;
        if (id < 0) {
          id = ids.length;
          if (id > MAX_STATE_ID) throw new RestoreError(`${this.options.dir}: no state ids left (${MAX_STATE_ID}); restore from a savepoint into a new directory`);
          ids.push([op.uid, slot.name]);
          fresh.push(id);
        }
        const statePlan = opPlan?.states.find((s) => s.state === slot.name && s.status === 'restored');
        const state = this.stateFrom(id, slot, statePlan);
        this.states[slot.index] = state;
        this.byId.set(id, state);
        this.meta.layout.operators[op.index].states[slot.stateIndex].versions = state.versions;
      }
    }
    return fresh;
  }

  private stateFrom(id: number, slot: StateSlot, plan: StatePlan | undefined): LsmState {
    const writer = slot.writer;
    const readers = new Map<number, Deserializer<unknown>>();
    const splitters = new Map<number, Deserializer<unknown>>();
    let versions: SchemaVersion[] = [{ id: 1, snapshot: writer.snapshot() }];
    if (plan) {
      const storedVersions = plan.metadata!.versions;
      for (const v of plan.values) readers.set(v.version!, v.reader!);
      for (const v of storedVersions) splitters.set(v.id, v.snapshot.restoreSerializer());
      const newest = storedVersions[storedVersions.length - 1];
      const same = Buffer.compare(snapshotToBytes(newest.snapshot), snapshotToBytes(writer.snapshot())) === 0;
      versions = same ? storedVersions : [...storedVersions, { id: Math.max(...storedVersions.map((v) => v.id)) + 1, snapshot: writer.snapshot() }];
    }
    const newest = versions[versions.length - 1].id;
    readers.set(newest, writer);
    splitters.set(newest, writer);
    const ttlVersions = new Set(versions.filter((v) => v.snapshot.kind === TTL_KIND).map((v) => v.id));
    return { id, slot, newest, readers, splitters, ttlVersions, versions };
  }

  /** Reopens a database: the local metadata is the savepoint, planned with the same rules. */
  private async reopen(stored: LocalMetadata): Promise<void> {
    const openedAt = this.now();
    const plan = planRestore(stored.layout, this.job, { allowNonRestoredState: this.options.allowNonRestoredState, now: () => openedAt });
    assertRestorable(plan);
    const rekeyed = plan.operators.filter((op) => op.rekey || op.states.some((s) => s.rekeyMapKeys)).map((op) => `"${op.uid}"`);
    if (rekeyed.length) {
      throw new RestoreError(
        `the key, namespace or map-key serializer of operator${rekeyed.length > 1 ? 's' : ''} ${rekeyed.join(', ')} changed, so entries must be re-keyed: ` +
          'take a savepoint with the previous version and restore it into a new directory (re-keying happens while restoring)',
      );
    }
    this.restorePlan = plan;
    this.applyPlanWriters(plan);
    this.position = stored.position;
    this.meta = {
      layout: { ...layoutOfJob(this.job), createdAt: Date.now(), files: [] },
      stateIds: stored.stateIds.slice(),
      checkpoint: stored.checkpoint,
      ...(stored.position ? { position: stored.position } : {}),
      ...(stored.pending ? { pending: stored.pending } : {}),
    };
    this.setUpStates(plan, stored.stateIds);
    // States no longer declared: their entries go, their ids are never reused.
    for (let id = 0; id < this.meta.stateIds.length; id++) {
      if (this.meta.stateIds[id] !== null && !this.byId.has(id)) {
        await this.db.clear({ gte: statePrefix(id), lt: prefixEnd(statePrefix(id)) });
        this.meta.stateIds[id] = null;
      }
    }
    if (stored.lower) {
      this.meta.lower = stored.lower;
      await this.attachLower(await openSavepoint(stored.lower.location, this.options.storage), stored.lower.states);
    }
    await saveMetadata(this.db, this.meta);
    // What a restore left to migrate (an upper bound after a crash in a pass): no counting scan.
    await this.migrate(this.meta.pending ? new Map(Object.entries(this.meta.pending).map(([id, n]) => [Number(id), n])) : undefined);
  }

  /** Restores a savepoint: marked as under way first, entries copied, marked done with the position. */
  private async restore(location: string): Promise<void> {
    const { savepoint, plan } = await this.restoreFrom(location, this.options);
    this.meta = { layout: { ...layoutOfJob(this.job), createdAt: Date.now(), files: [] }, stateIds: [], checkpoint: 0 };
    this.setUpStates(plan, undefined);
    // Entries whose keys migrate must be re-keyed, which only a copy can do.
    const rekeys = plan.operators.some((op) => op.status === 'matched' && (op.rekey || op.states.some((s) => s.rekeyMapKeys)));
    if (this.options.restore === 'in-place' && !rekeys) return this.restoreInPlace(savepoint, plan);
    const copied = await this.ingest(savepoint, plan);
    if (copied.size) this.meta.pending = Object.fromEntries(copied);
    // The restore's last step: metadata at checkpoint 1 (with the savepoint's position), then the marker goes.
    this.meta.checkpoint = 1;
    if (this.position) this.meta.position = this.position;
    await saveMetadata(this.db, this.meta);
    await unmarkRestoring(this.options.dir);
    await this.migrate(copied);
  }

  /**
   * A restore in place: nothing is copied now. The savepoint becomes the lower layer (its files
   * read where they lie), recorded in the metadata so a reopen attaches it again until the copy
   * pass has copied it in.
   */
  private async restoreInPlace(savepoint: Savepoint, plan: RestorePlan): Promise<void> {
    const states: [string, number, number][] = [];
    for (const opPlan of plan.operators) {
      if (opPlan.status !== 'matched') continue;
      const op = this.operatorSlot(opPlan.uid);
      for (const s of opPlan.states) if (s.status === 'restored') states.push([opPlan.previousUid ?? opPlan.uid, s.savepointIndex!, this.states[op.states.get(s.state)!.index].id]);
    }
    await this.attachLower(savepoint, states, true);
    this.meta.lower = { location: savepoint.dir, states };
    this.meta.checkpoint = 1;
    if (this.position) this.meta.position = this.position;
    await saveMetadata(this.db, this.meta);
    await unmarkRestoring(this.options.dir);
  }

  /** States with entries at older versions: eager ones are rewritten now; lazy ones may get a background pass. */
  private async migrate(copied: Map<number, number> | undefined): Promise<void> {
    const lazy: LsmState[] = [];
    // Eager states of a restore in place whose copy pass is done: the job already runs and writes,
    // so they migrate in a background pass at full speed rather than the open's pass.
    const behind: LsmState[] = [];
    for (const state of this.states) {
      if (state.versions.length < 2) continue;
      // TTL turned on or off migrates eagerly in any mode: old entries' timestamps must not outlive
      // the versions that gave them meaning (a later savepoint would carry them).
      const eager = ttlChanged(state) || modeOf(this.options, state.slot.uid, state.slot.name) === 'eager';
      if (eager && !this.lower) {
        await migrateState(this, state, { onProgress: this.options.onProgress, total: copied?.get(state.id) });
        this.retireOldVersions(state);
        // Retired now: no undo record can hold an old version yet (nothing was written since the open).
        await this._checkpoint(this.position);
      } else if (eager && this.lowerCopied) behind.push(state);
      else lazy.push(state);
    }
    const background = [...behind.map((state) => ({ state, rate: 0 })), ...(this.options.backgroundMigration ? lazy.map((state) => ({ state, rate: this.options.backgroundMigration!.rate ?? 0 })) : [])];
    if (background.length) {
      // One background pass at a time: a pass started before the copy pass ended gives way to this one.
      await this.background?.stop();
      this.background = new BackgroundMigration(async (control) => {
        for (const { state, rate } of background) {
          await migrateState(this, state, { onProgress: this.options.onProgress, rate, control });
          this.retireOldVersions(state);
        }
      });
    }
  }

  /**
   * Copies a savepoint's entries in as bytes; decodes only to re-key (through restoreRekeyed, which
   * refuses collisions). Consecutive elements of one list become one entry. Returns, per state id,
   * how many entries were copied at an older version (left for a migration).
   */
  private async ingest(savepoint: Savepoint, plan: RestorePlan): Promise<Map<number, number>> {
    const copied = new Map<number, number>();
    const pipeline = new BatchPipeline(this.db, INGEST_BATCH);
    try {
      for (const opPlan of plan.operators) {
        if (opPlan.status !== 'matched') continue;
        const op = this.operatorSlot(opPlan.uid);
        const bySavepointIndex: (LsmState | undefined)[] = [];
        for (const s of opPlan.states) if (s.status === 'restored') bySavepointIndex[s.savepointIndex!] = this.states[op.states.get(s.state)!.index];
        if (opPlan.rekey || opPlan.states.some((s) => s.rekeyMapKeys)) await this.ingestRekeyed(savepoint, opPlan, op, pipeline);
        else await this.ingestAsStored(savepoint, opPlan.previousUid ?? opPlan.uid, bySavepointIndex, pipeline, copied);
      }
      await pipeline.drain();
    } finally {
      await pipeline.close();
    }
    return copied;
  }

  /** An operator whose keys migrate: every entry decoded, re-keyed, and written at the newest version. */
  private async ingestRekeyed(savepoint: Savepoint, opPlan: OperatorPlan, op: OperatorSlot, pipeline: BatchPipeline): Promise<void> {
    const write = ({ slot, at, stored, mapKey }: RekeyedRow) => {
      const state = this.states[slot.index];
      const mapKeyBytes = slot.descriptor.type === 'map' ? slot.encodeMapKey(mapKey) : undefined;
      return pipeline.put(entryKey(state.id, at.keyGroup, at.keyNs, mapKeyBytes), versioned(state.newest, slot.encodeInto(stored)));
    };
    // A list is written whole: a second run of one old key's elements would replace the first.
    const uid = opPlan.previousUid ?? opPlan.uid;
    await restoreRekeyed(savepoint, opPlan, op, (kg) => keyGroupInRange(kg, this.keyGroupRange), write, {
      scatteredList: (slot) => scatteredList(uid, this.states[slot.index], savepoint.dir),
    });
  }

  /** An operator's entries copied as stored, walked where they lie in the savepoint's blocks. */
  private async ingestAsStored(savepoint: Savepoint, uid: string, bySavepointIndex: (LsmState | undefined)[], pipeline: BatchPipeline, copied: Map<number, number>): Promise<void> {
    const shared = keyGroupsInSeveralFiles(savepoint.files(uid, this.keyGroupRange));
    const writer = new EntryWriter(pipeline, bySavepointIndex, (state) => scatteredList(uid, state, savepoint.dir), true, shared);
    // Transient blocks: the writer keeps nothing of a block (it copies a list's elements), so the
    // savepoint's file is read into the same memory over and over.
    for await (const block of savepoint.entryBlocks(uid, this.keyGroupRange, { transient: true })) await writer.block(block);
    await writer.end();
    for (const [state, n] of writer.old) copied.set(state.id, (copied.get(state.id) ?? 0) + n);
  }
}

/** A list whose elements a savepoint does not store one after the other. */
export function scatteredList(uid: string, state: LsmState, location: string): RestoreError {
  return new RestoreError(
    `operator "${uid}" state "${state.slot.name}": the elements of one list are not stored together in ${location}; ` +
      'restore it with the heap backend (openHeapBackend), which joins them, and take a savepoint from that (backend.savepoint): it stores each list whole',
  );
}


function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The lazy mode's background pass: rate-limited, pausable; old versions retire at the next checkpoint. */
export class BackgroundMigration {
  private paused = false;
  private stopped = false;
  private wake?: () => void;
  readonly done: Promise<void>;

  constructor(run: (control: BackgroundMigration) => Promise<void>) {
    this.done = run(this);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.resume();
    await this.done.catch(() => undefined);
  }

  get stopping(): boolean {
    return this.stopped;
  }

  /** Asked to pause or stop: a long run of the pass ends at its next step. */
  get halting(): boolean {
    return this.paused || this.stopped;
  }

  /** Called by the pass between batches: false when it must stop. */
  async checkpoint(): Promise<boolean> {
    while (this.paused && !this.stopped) await new Promise<void>((r) => (this.wake = r));
    return !this.stopped;
  }

  /** Waits `ms` (the pass's rate limit), or less when the pass is stopped. */
  async sleep(ms: number): Promise<void> {
    if (this.stopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Marks a restore, unless the directory already holds a database without a restore under way (refused in open). */
async function markRestoringUnlessHeld(dir: string, location: string): Promise<void> {
  const holds = existsSync(join(dir, 'CURRENT'));
  if (!holds || (await restoringFrom(dir)) !== undefined) await markRestoring(dir, location);
}

/** Opens (or creates) the database in `options.dir`: from a savepoint, from what it holds, or empty. */
export async function openLsmBackend<J extends JobDeclaration>(options: LsmOpenOptions<J>): Promise<LsmBackend<J>> {
  checkOpenOptions(options, 'openLsmBackend');
  if (typeof options.dir !== 'string' || !options.dir) throw new TypeError('openLsmBackend() needs { dir }, the database directory');
  if (options.writeBufferSize !== undefined && !(Number.isInteger(options.writeBufferSize) && options.writeBufferSize > 0)) {
    throw new TypeError('openLsmBackend(): writeBufferSize must be a positive whole number of entries');
  }
  // A restore is marked before LevelDB creates anything, so an interrupted one is always detected.
  // Into a directory that was absent or empty, a failed restore leaves it so again: a savepoint that
  // is missing or refused must not leave a marker that every later open has to deal with.
  const fresh = options.restoreFrom !== undefined ? await absentOrEmpty(options.dir) : false;
  if (options.restoreFrom !== undefined) await markRestoringUnlessHeld(options.dir, options.restoreFrom);
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(options.dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new BackendLockedError(`${options.dir} is open in another backend (this process or another one); close it first, or open another directory`, { cause: error });
    }
    throw error;
  }
  const backend = new LsmBackend(db, options);
  try {
    await backend.open();
    return backend;
  } catch (error) {
    await db.close();
    if (fresh) await leaveAsFound(options.dir, fresh);
    throw error;
  }
}

async function absentOrEmpty(dir: string): Promise<'absent' | 'empty' | false> {
  try {
    return (await readdir(dir)).length === 0 ? 'empty' : false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
}

/** After a failed restore: the directory removed if the open made it, else emptied (it may be a mount point). */
async function leaveAsFound(dir: string, found: 'absent' | 'empty'): Promise<void> {
  if (found === 'absent') await rm(dir, { recursive: true, force: true });
  else for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

/** Whether a state's stored versions differ from its newest in having a TTL. */
export function ttlChanged(state: LsmState): boolean {
  return state.versions.some((v) => state.ttlVersions.has(v.id) !== state.ttlVersions.has(state.newest));
}

/** Rewrites a stored value (list: every element) at the state's newest version, through its version's reader. */
export function newestBytes(state: LsmState): (value: Uint8Array) => Uint8Array {
  const out = new DataOutput(256);
  const list = state.slot.descriptor.type === 'list';
  return (value) => {
    const input = new DataInput(value);
    const version = input.readVarUint();
    if (version === state.newest) return value;
    out.reset();
    out.writeVarUint(state.newest);
    const reader = state.readers.get(version)!;
    do state.slot.writer.serialize(reader.deserialize(input), out);
    while (list && !input.atEnd);
    return out.toBytes();
  };
}
