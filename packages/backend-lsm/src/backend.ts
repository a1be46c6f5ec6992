/**
 * The LSM backend: state as bytes in LevelDB (classic-level), behind a write buffer.
 *
 * Point access is synchronous: writes go to the buffer, reads consult it and then `getSync`. A
 * checkpoint writes the buffer, the position and a checkpoint counter as one batch. A full buffer
 * may be written before a checkpoint; each key it changes first gets an undo record (its previous
 * value), so reopening after a crash puts back exactly the last checkpoint.
 */
import { AbstractStateBackend, type ExportCut, type MapEntryWrite, type OperatorSlot, type StateSlot } from '@stateshift/backend';
import { DataInput, DataOutput, DecodeError, keyGroupInRange, supports, type BackendSupports, type Deserializer, type JobDeclaration } from '@stateshift/core';
import type { RawEntry, RestorePlan, Savepoint, SavepointLayout, SavepointWriter } from '@stateshift/savepoint';
import type { Iterator as LevelIterator } from 'classic-level';
import { entryValue, fromLatin1, keyGroupOfKey, latin1, prefixEnd, splitRest, stateIdOf, statePrefix, UNDO_STATE, versionOf } from './layout.js';
import { checkpointOps, layoutOp, writeBatch, type BatchOp, type Db, type LocalMetadata } from './local-metadata.js';
import type { BackgroundMigration } from './migration.js';
import type { LsmOpenOptions } from './options.js';
import { Layer, lookup, mapOverlay } from './write-buffer.js';

/** Entries read per native call when iterating. */
const BATCH = 1000;
const DEFAULT_BUFFER_BYTES = 32 * 1024 * 1024;
const EMPTY = new Uint8Array(0);

/** What the backend keeps per state: its id, the version new writes carry, readers per version. */
export interface StateRuntime {
  id: number;
  newest: number;
  /** Reads the stored bytes of each older version as the current type. */
  readers: Map<number, Deserializer<unknown>>;
}

type Iterator = LevelIterator<Db, Uint8Array, Uint8Array>;

interface LsmCut extends ExportCut {
  iterator: Promise<Iterator>;
}

export class LsmBackend<J extends JobDeclaration = JobDeclaration> extends AbstractStateBackend<J> {
  readonly supports: BackendSupports = supports({ persistence: true, lazyMigration: true, keepsOldVersions: true, backgroundMigration: true });
  /** The background pass of lazy migration, when one runs. */
  background: BackgroundMigration | undefined;
  /** Per slot index. */
  readonly runtimes: StateRuntime[] = [];
  readonly byId = new Map<number, StateSlot>();
  /** The write buffer: oldest first, the last one takes writes. */
  private readonly layers: Layer[] = [new Layer()];
  /** Every database write, one after the other. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Keys with an undo record in this checkpoint interval. */
  private readonly undone = new Set<string>();
  /** States whose old versions a finished background pass retires at the next checkpoint. */
  private readonly retiring = new Set<StateSlot>();
  /** A buffer flush that failed: checkpoints fail with it. */
  private failure: unknown;
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  private readonly sync: boolean;
  private keyScratch = Buffer.allocUnsafe(256);
  private readonly valueOut = new DataOutput(256);

  constructor(
    readonly db: Db,
    readonly meta: LocalMetadata,
    readonly options: LsmOpenOptions<J>,
  ) {
    super(options);
    this.sync = !!options.sync;
    const size = options.writeBufferSize;
    this.maxBytes = size?.bytes ?? (size?.entries === undefined ? DEFAULT_BUFFER_BYTES : Infinity);
    this.maxEntries = size?.entries ?? Infinity;
  }

  /** The state slots of this backend (for the open and restore code). */
  get stateSlots(): readonly StateSlot[] {
    return this.slots;
  }

  /** @internal The restore driver's first half: the savepoint, its plan, the slots' writers. */
  openSavepoint(location: string): Promise<{ savepoint: Savepoint; plan: RestorePlan }> {
    return this.restoreFrom(location, this.options);
  }

  /** @internal Reopening: the plan of the job against what the database holds. */
  usePlan(plan: RestorePlan, position: Uint8Array | undefined): void {
    this.restorePlan = plan;
    this.applyPlanWriters(plan);
    this.position = position;
  }

  /** @internal */
  operatorSlotOf(uid: string): OperatorSlot {
    return this.operatorSlot(uid);
  }

  /** Runs `fn` after every database write queued before it; the next ones wait for it. */
  enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  // Keys.

  /**
   * The entry key of `key`/`namespace` (plus a map key) in a reused buffer, and its latin1 string.
   * The bytes are valid until the next call.
   */
  private keyOf(slot: StateSlot, key: unknown, namespace: unknown, mapKey?: Uint8Array): { str: string; bytes: Buffer; prefixLength: number } {
    const { keyGroup, keyNs } = slot.operator.locate(key, namespace);
    const prefixLength = 4 + keyNs.length;
    const length = prefixLength + (mapKey?.length ?? 0);
    if (this.keyScratch.length < length) this.keyScratch = Buffer.allocUnsafe(length * 2);
    const out = this.keyScratch;
    const id = this.runtimes[slot.index].id;
    out[0] = id >> 8;
    out[1] = id & 0xff;
    out[2] = keyGroup >> 8;
    out[3] = keyGroup & 0xff;
    out.set(keyNs, 4);
    if (mapKey) out.set(mapKey, prefixLength);
    return { str: latin1(out, length), bytes: out.subarray(0, length), prefixLength };
  }

  private read(str: string, bytes: Uint8Array, mapPrefix?: string): Uint8Array | undefined {
    const buffered = lookup(this.layers, str, mapPrefix);
    if (buffered !== undefined) return buffered ?? undefined;
    return this.db.getSync(bytes);
  }

  private write(str: string, value: Uint8Array | null, mapPrefix?: string): void {
    const layer = this.layers[this.layers.length - 1];
    layer.set(str, value, mapPrefix);
    if (layer.bytes > this.maxBytes || layer.pending.size > this.maxEntries) this.flushFull();
  }

  // Values.

  private readerOf(slot: StateSlot, version: number): Deserializer<unknown> {
    const runtime = this.runtimes[slot.index];
    if (version === runtime.newest) return slot.writer;
    const reader = runtime.readers.get(version);
    if (!reader) {
      throw new DecodeError(
        `operator "${slot.uid}" state "${slot.name}": an entry has schema version ${version}, which the local metadata does not list; the database in ${this.options.dir} is damaged, restore it from a savepoint`,
        0,
      );
    }
    return reader;
  }

  private decodeOne(slot: StateSlot, value: Uint8Array): unknown {
    const { version, start } = versionOf(value);
    return this.readerOf(slot, version).deserialize(new DataInput(value, start));
  }

  private decodeAll(slot: StateSlot, value: Uint8Array, into: unknown[] = []): unknown[] {
    const { version, start } = versionOf(value);
    const reader = this.readerOf(slot, version);
    const input = new DataInput(value, start);
    while (!input.atEnd) into.push(reader.deserialize(input));
    return into;
  }

  /** A stored value (a list: every element) rewritten at the newest version, in one buffer. */
  convert(slot: StateSlot, value: Uint8Array): Uint8Array {
    const { version, start } = versionOf(value);
    const reader = this.readerOf(slot, version);
    const out = this.valueOut;
    out.reset();
    out.writeVarUint(this.runtimes[slot.index].newest);
    const input = new DataInput(value, start);
    do slot.writer.serialize(reader.deserialize(input), out);
    while (slot.descriptor.type === 'list' && !input.atEnd);
    return out.toBytes();
  }

  // The private state API.

  _get(slot: StateSlot, key: unknown, namespace: unknown): unknown {
    const k = this.keyOf(slot, key, namespace);
    const value = this.read(k.str, k.bytes);
    return value === undefined ? undefined : this.decodeOne(slot, value);
  }

  _put(slot: StateSlot, key: unknown, namespace: unknown, _stored: unknown, encoded: Uint8Array): void {
    const { str } = this.keyOf(slot, key, namespace);
    this.write(str, entryValue(this.runtimes[slot.index].newest, encoded));
  }

  _delete(slot: StateSlot, key: unknown, namespace: unknown): void {
    const k = this.keyOf(slot, key, namespace);
    if (slot.descriptor.type === 'map') {
      const layer = this.layers[this.layers.length - 1];
      layer.clearPrefix(k.str);
      if (layer.bytes > this.maxBytes) this.flushFull();
    } else this.write(k.str, null);
  }

  _getList(slot: StateSlot, key: unknown, namespace: unknown): unknown[] {
    const k = this.keyOf(slot, key, namespace);
    const value = this.read(k.str, k.bytes);
    return value === undefined ? [] : this.decodeAll(slot, value);
  }

  _putList(slot: StateSlot, key: unknown, namespace: unknown, stored: unknown[], encoded: Uint8Array): void {
    this._put(slot, key, namespace, stored, encoded);
  }

  _appendList(slot: StateSlot, key: unknown, namespace: unknown, _stored: unknown[], encoded: Uint8Array): void {
    const k = this.keyOf(slot, key, namespace);
    const newest = this.runtimes[slot.index].newest;
    const current = this.read(k.str, k.bytes);
    if (current === undefined) return this.write(k.str, entryValue(newest, encoded));
    const { version } = versionOf(current);
    if (version === newest) {
      const value = Buffer.allocUnsafe(current.length + encoded.length);
      value.set(current);
      value.set(encoded, current.length);
      return this.write(k.str, value);
    }
    // An older version: the whole list moves to the newest with this write.
    const converted = this.convert(slot, current);
    const value = Buffer.allocUnsafe(converted.length + encoded.length);
    value.set(converted);
    value.set(encoded, converted.length);
    this.write(k.str, value);
  }

  _getMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): unknown {
    const k = this.keyOf(slot, key, namespace, mapKeyBytes);
    const value = this.read(k.str, k.bytes, k.str.slice(0, k.prefixLength));
    return value === undefined ? undefined : this.decodeOne(slot, value);
  }

  _putMapValues(slot: StateSlot, key: unknown, namespace: unknown, entries: MapEntryWrite[]): void {
    const newest = this.runtimes[slot.index].newest;
    // Every key first: a key that cannot be located fails before anything is written.
    const keys = entries.map((e) => this.keyOf(slot, key, namespace, e.mapKeyBytes));
    for (let i = 0; i < entries.length; i++) this.write(keys[i].str, entryValue(newest, entries[i].encoded), keys[i].str.slice(0, keys[i].prefixLength));
  }

  _deleteMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): void {
    const k = this.keyOf(slot, key, namespace, mapKeyBytes);
    this.write(k.str, null, k.str.slice(0, k.prefixLength));
  }

  _mapEntries(slot: StateSlot, key: unknown, namespace: unknown): AsyncIterable<[unknown, unknown]> {
    const k = this.keyOf(slot, key, namespace);
    const prefix = new Uint8Array(k.bytes.subarray(0, k.prefixLength));
    // The cut, now: the buffer's entries under the prefix (the write buffer is not written) and a
    // LevelDB snapshot. Layers still being written may be in the snapshot too: applying them again,
    // in order, gives the same result.
    const { cleared, overlay } = mapOverlay(this.layers, k.str);
    const it = cleared ? undefined : this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) });
    const self = this;
    const entry = (entryKey: Uint8Array, value: Uint8Array) =>
      [slot.mapKeyWriter!.deserialize(new DataInput(entryKey, prefix.length)), self.decodeOne(slot, value)] as [unknown, unknown];
    return (async function* () {
      let j = 0;
      try {
        for (;;) {
          const batch = it ? await it.nextv(BATCH) : [];
          if (!batch.length) break;
          for (const [entryKey, value] of batch) {
            const str = latin1(entryKey);
            for (; j < overlay.length && overlay[j][0] < str; j++) if (overlay[j][1]) yield entry(fromLatin1(overlay[j][0]), overlay[j][1]!);
            if (j < overlay.length && overlay[j][0] === str) {
              if (overlay[j][1]) yield entry(entryKey, overlay[j][1]!);
              j++;
            } else yield entry(entryKey, value);
          }
        }
        for (; j < overlay.length; j++) if (overlay[j][1]) yield entry(fromLatin1(overlay[j][0]), overlay[j][1]!);
      } finally {
        await it?.close();
      }
    })();
  }

  _keys(slot: StateSlot): AsyncIterable<{ key: unknown; namespace: unknown }> {
    const prefix = statePrefix(this.runtimes[slot.index].id);
    const iterator = this.snapshot({ gte: prefix, lt: prefixEnd(prefix) });
    const { keySerializer, namespaceSerializer } = slot.operator.declaration;
    const range = this.keyGroupRange;
    return (async function* () {
      const it = await iterator;
      let last: string | undefined;
      try {
        for (;;) {
          const batch = await it.nextv(BATCH);
          if (!batch.length) return;
          for (const [entryKey] of batch) {
            if (!keyGroupInRange(keyGroupOfKey(entryKey), range)) continue;
            const parts = splitRest(entryKey.subarray(4));
            // Map entries of one key follow each other: yield the key once.
            const keyNs = latin1(entryKey, entryKey.length - parts.suffix.length);
            if (keyNs === last) continue;
            last = keyNs;
            yield {
              key: keySerializer.deserialize(new DataInput(parts.key)),
              namespace: namespaceSerializer ? namespaceSerializer.deserialize(new DataInput(parts.namespace)) : undefined,
            };
          }
        }
      } finally {
        await it.close();
      }
    })();
  }

  /**
   * A LevelDB iterator over `range` that sees every write made so far and none made later: the
   * buffer is written (uncommitted, with undo records) and the iterator made right after, in order.
   */
  private snapshot(range: { gte: Uint8Array; lt: Uint8Array }): Promise<Iterator> {
    this.flushCurrent(false)?.catch((error: unknown) => {
      this.failure ??= error;
    });
    return this.enqueue(async () => {
      if (this.failure) throw this.failure;
      return this.db.iterator(range);
    });
  }

  // Writing the buffer.

  /** Freezes the current layer and queues its batch. */
  private flushCurrent(commit: false): Promise<void> | undefined;
  private flushCurrent(commit: true, position: Uint8Array | undefined): Promise<void>;
  private flushCurrent(commit: boolean, position?: Uint8Array): Promise<void> | undefined {
    const layer = this.layers[this.layers.length - 1];
    if (!commit && layer.empty) return undefined;
    this.layers.push(new Layer());
    return this.enqueue(() => this.writeLayer(layer, commit, position));
  }

  private flushFull(): void {
    this.flushCurrent(false)?.catch((error: unknown) => {
      this.failure ??= error;
    });
  }

  /**
   * Writes a frozen layer as one batch: map clears become deletes of what the database holds
   * under their prefix (before the puts). Uncommitted: undo records for keys changed the first
   * time since the last checkpoint. Committed: the checkpoint's counter and position, and the
   * interval's undo records removed.
   */
  private async writeLayer(layer: Layer, commit: boolean, position?: Uint8Array): Promise<void> {
    const ops: BatchOp[] = [];
    for (const prefix of layer.tombstones) {
      const bytes = fromLatin1(prefix);
      for await (const key of this.db.keys({ gte: bytes, lt: prefixEnd(bytes) })) ops.push({ type: 'del', key });
    }
    for (const [key, value] of layer.pending) ops.push(value ? { type: 'put', key: fromLatin1(key), value } : { type: 'del', key: fromLatin1(key) });
    const interval = this.meta.counter + 1;
    if (commit) {
      for (const key of this.undone) ops.push({ type: 'del', key: undoKey(interval, fromLatin1(key)) });
      this.meta.counter = interval;
      this.meta.position = position;
      ops.push(...checkpointOps(this.meta));
      if (this.retiring.size) {
        for (const slot of this.retiring) this.retireOldVersions(slot);
        this.retiring.clear();
        ops.push(layoutOp(this.meta));
      }
    } else {
      const undo: BatchOp[] = [];
      for (const op of ops) {
        const str = latin1(op.key);
        if (this.undone.has(str)) continue;
        this.undone.add(str);
        const previous = this.db.getSync(op.key);
        const record = Buffer.allocUnsafe(1 + (previous?.length ?? 0));
        record[0] = previous ? 1 : 0;
        if (previous) record.set(previous, 1);
        undo.push({ type: 'put', key: undoKey(interval, op.key), value: record });
      }
      ops.push(...undo);
    }
    try {
      await writeBatch(this.db, ops, { sync: this.sync });
    } catch (error) {
      if (commit) this.meta.counter = interval - 1;
      throw error;
    }
    if (commit) this.undone.clear();
    this.layers.splice(this.layers.indexOf(layer), 1);
  }

  protected async _checkpoint(position: Uint8Array | undefined): Promise<void> {
    if (this.failure) throw this.failure;
    await this.flushCurrent(true, position);
  }

  // Savepoints.

  protected override savepointLayout(): SavepointLayout {
    return { jobName: this.job.name, maxParallelism: this.job.maxParallelism, operators: this.meta.layout.operators };
  }

  protected _beginExport(): LsmCut {
    const iterator = this.snapshot({ gte: statePrefix(0), lt: statePrefix(UNDO_STATE) });
    return {
      iterator,
      release: async () => {
        const it = await iterator.catch(() => undefined);
        await it?.close();
      },
    };
  }

  /** Streams the cut, one data file per state, entries keeping their version ids; a list is split into its elements. */
  protected async _exportState(writer: SavepointWriter, cut: ExportCut): Promise<void> {
    const it = await (cut as LsmCut).iterator;
    let file: Awaited<ReturnType<SavepointWriter['openDataFile']>> | undefined;
    let current: StateSlot | undefined;
    for (;;) {
      const batch = await it.nextv(BATCH);
      if (!batch.length) break;
      for (const [key, value] of batch) {
        const slot = this.byId.get(stateIdOf(key));
        const keyGroup = keyGroupOfKey(key);
        if (!slot || !keyGroupInRange(keyGroup, this.keyGroupRange)) continue;
        if (slot !== current) {
          if (file) await writer.closeDataFile(file);
          current = slot;
          file = await writer.openDataFile(slot.uid, this.keyGroupRange, `s${slot.stateIndex}`);
        }
        const parts = splitRest(key.subarray(4));
        const { version, start } = versionOf(value);
        const entry: RawEntry = { state: slot.stateIndex, keyGroup, key: parts.key, namespace: parts.namespace, mapKey: EMPTY, version, value: value.subarray(start) };
        if (slot.descriptor.type === 'map') entry.mapKey = parts.suffix;
        if (slot.descriptor.type !== 'list') {
          const flushing = file!.append(entry);
          if (flushing) await flushing;
          continue;
        }
        // One savepoint entry per element: the reader of the list's version finds where each ends.
        const reader = this.readerOf(slot, version);
        const input = new DataInput(value, start);
        while (!input.atEnd) {
          const from = input.offset;
          reader.deserialize(input);
          entry.value = value.subarray(from, input.offset);
          const flushing = file!.append(entry);
          if (flushing) await flushing;
        }
      }
    }
    if (file) await writer.closeDataFile(file);
  }

  // Versions.

  /** Drops every version but the newest from a state's table (no entry uses them any more). */
  retireOldVersions(slot: StateSlot): void {
    const state = this.meta.layout.operators[slot.operator.index].states[slot.stateIndex];
    const newest = this.runtimes[slot.index].newest;
    state.versions = state.versions.filter((v) => v.id === newest);
  }

  /** After a background pass: the old versions go at the next checkpoint (undo records may still hold their bytes). */
  retireAtCheckpoint(slot: StateSlot): void {
    this.retiring.add(slot);
  }

  /** Whether the buffer holds a write (or a map clear) for a stored entry key. */
  isBuffered(key: Uint8Array, slot: StateSlot): boolean {
    let mapPrefix: string | undefined;
    if (slot.descriptor.type === 'map') mapPrefix = latin1(key, key.length - splitRest(key.subarray(4)).suffix.length);
    return lookup(this.layers, latin1(key), mapPrefix) !== undefined;
  }

  protected async _close(): Promise<void> {
    await this.background?.stop();
    // Writes since the last checkpoint are dropped: a reopen gives the last checkpoint.
    await this.chain;
    await this.db.close();
  }
}

/** Undo record key: UNDO_STATE, the checkpoint interval (4 bytes), then the entry key. */
export function undoKey(interval: number, key: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(6 + key.length);
  out[0] = UNDO_STATE >> 8;
  out[1] = UNDO_STATE & 0xff;
  out.writeUInt32BE(interval, 2);
  out.set(key, 6);
  return out;
}

