/**
 * `AbstractStateBackend`: everything the backends share, once. Public methods check their
 * arguments and state, then call the private API (`_get`, `_put`, `_checkpoint`, `_exportState`,
 * ...), which a backend implements over its stored form (abstract-level's split between `put` and
 * `_put`).
 */
import {
  keyGroupRangeForOperator,
  type AnyOperatorStateHandle,
  type BackendOpenOptions,
  type BackendSupports,
  type CheckpointOptions,
  type JobDeclaration,
  type KeyGroupRange,
  type KeyOf,
  type NamespaceOf,
  type OperatorDeclaration,
  type OperatorNamed,
  type OperatorStateHandle,
  type StatesOf,
  type SavepointOptions,
  type SavepointWritten,
  type StateBackend,
  type StateDescriptor,
  type StateType,
} from '@stateshift/core';
import {
  assertRestorable,
  FIRST_VERSION,
  layoutOfJob,
  openSavepoint,
  planRestore,
  SavepointWriter,
  type RestorePlan,
  type Savepoint,
  type SavepointLayout,
} from '@stateshift/savepoint';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { restoreSource } from './checkpoint-dir.js';
import { lockDirectory } from './directory-lock.js';
import { listHandle, mapHandle, valueHandle, type HandleHost } from './handles.js';
import type { MapEntryWrite } from './private-api.js';
import { checkOpen, OperatorSlot, StateSlot } from './slots.js';

/** The key groups an instance serves: all of them, or instance `index` of `parallelism`. */
export function servedRange(options: BackendOpenOptions): KeyGroupRange {
  const { job } = options;
  if (options.parallelism === undefined) {
    if (options.index !== undefined) throw new TypeError('index needs parallelism');
    return { start: 0, end: job.maxParallelism - 1 };
  }
  if (!Number.isInteger(options.parallelism) || options.parallelism < 1 || options.parallelism > job.maxParallelism) {
    throw new TypeError(`parallelism must be an integer in 1..${job.maxParallelism} (the job's maxParallelism), got ${String(options.parallelism)}`);
  }
  const index = options.index ?? 0;
  if (!Number.isInteger(index) || index < 0 || index >= options.parallelism) {
    throw new TypeError(`index must be an integer in 0..${options.parallelism - 1}, got ${String(options.index)}`);
  }
  return keyGroupRangeForOperator(index, options.parallelism, job.maxParallelism);
}

/** Checks the open options every backend takes. */
export function checkOpenOptions(options: BackendOpenOptions, opener: string): void {
  if (!options || typeof options !== 'object' || !options.job || !Array.isArray(options.job.operators)) {
    throw new TypeError(`${opener}() needs { job } (a defineJob result)`);
  }
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError(`${opener}(): now must be a function returning ms since the epoch`);
  if (options.restoreFrom !== undefined && (typeof options.restoreFrom !== 'string' || !options.restoreFrom)) {
    throw new TypeError(`${opener}(): restoreFrom must be a savepoint location (a directory or an s3:// URL)`);
  }
}

export function checkPosition(options: CheckpointOptions | undefined, method: string): Uint8Array | undefined {
  const position = options?.position;
  if (position !== undefined && !(position instanceof Uint8Array)) {
    throw new TypeError(`${method}(): position must be a Uint8Array (encode offsets yourself, e.g. new TextEncoder().encode(JSON.stringify(offsets)))`);
  }
  return position;
}

export abstract class AbstractStateBackend<J extends JobDeclaration = JobDeclaration> implements StateBackend<J>, HandleHost {
  readonly job: J;
  readonly keyGroupRange: KeyGroupRange;
  abstract readonly supports: BackendSupports;
  position: Uint8Array | undefined;
  /** How the restore was decided; undefined when the backend started without a savepoint. */
  restorePlan: RestorePlan | undefined;
  protected readonly operatorSlots: OperatorSlot[] = [];
  /** Every state slot, by index. */
  protected readonly slots: StateSlot[] = [];
  private readonly byUid = new Map<string, OperatorSlot>();
  private readonly handleCache = new Map<string, AnyOperatorStateHandle>();
  private readonly clock: () => number;
  private closed = false;
  /** Lets go of the directory `restoreOnOpen` locked. */
  private unlockDirectory: (() => Promise<void>) | undefined;

  protected constructor(options: BackendOpenOptions<J>) {
    this.job = options.job;
    this.keyGroupRange = servedRange(options);
    this.clock = options.now ?? Date.now;
    options.job.operators.forEach((declaration: OperatorDeclaration, index: number) => {
      const op = new OperatorSlot(index, declaration, options.job.maxParallelism, this.keyGroupRange);
      declaration.states.forEach((descriptor: StateDescriptor, stateIndex: number) => {
        const slot = new StateSlot(this.slots.length, op, stateIndex, descriptor);
        op.states.set(descriptor.name, slot);
        this.slots.push(slot);
      });
      this.operatorSlots.push(op);
      this.byUid.set(declaration.uid, op);
    });
  }

  now(): number {
    return this.clock();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  checkOpen(what: string): void {
    checkOpen(this.closed, what);
  }

  /** The handles of an operator, typed from its declaration (or from its uid, given a typed job). */
  operator<O extends J['operators'][number]>(operator: O): OperatorStateHandle<KeyOf<O>, NamespaceOf<O>, StatesOf<O>>;
  operator<Uid extends J['operators'][number]['uid']>(
    uid: Uid,
  ): OperatorStateHandle<KeyOf<OperatorNamed<J['operators'], Uid>>, NamespaceOf<OperatorNamed<J['operators'], Uid>>, StatesOf<OperatorNamed<J['operators'], Uid>>>;
  operator(operator: string | OperatorDeclaration): unknown {
    const uid = typeof operator === 'string' ? operator : operator?.uid;
    if (typeof uid !== 'string') throw new TypeError('operator() needs an operator declaration or its uid');
    this.checkOpen(`operator("${uid}")`);
    const op = this.byUid.get(uid);
    if (!op) throw new TypeError(`job "${this.job.name}" has no operator "${uid}"; it has ${[...this.byUid.keys()].map((u) => `"${u}"`).join(', ')}`);
    // Checked before the cache, so a look-alike declaration is refused on every call, not only the first.
    if (typeof operator !== 'string' && operator !== op.declaration) {
      throw new TypeError(`operator "${uid}" is not the declaration this backend's job holds; pass the one from its defineJob (or its uid)`);
    }
    const cached = this.handleCache.get(uid);
    if (cached) return cached;
    const handles = new Map<string, unknown>();
    const handle = (state: unknown, type: StateType): unknown => {
      const name = typeof state === 'string' ? state : (state as StateDescriptor | undefined)?.name;
      if (typeof name !== 'string') throw new TypeError(`${type}() needs a state descriptor or its name`);
      const slot = this.slotOf(op, name, type);
      if (typeof state !== 'string' && state !== slot.descriptor) {
        throw new TypeError(`state "${uid}"/"${name}" is not the descriptor operator "${uid}" declares; pass the declared one (or its name)`);
      }
      let h = handles.get(name);
      if (!h) {
        h = type === 'value' ? valueHandle(this, slot) : type === 'list' ? listHandle(this, slot) : mapHandle(this, slot);
        handles.set(name, h);
      }
      return h;
    };
    const result = {
      uid,
      value: (state: unknown) => handle(state, 'value'),
      list: (state: unknown) => handle(state, 'list'),
      map: (state: unknown) => handle(state, 'map'),
      keys: (state: unknown) => {
        const name = typeof state === 'string' ? state : (state as StateDescriptor | undefined)?.name;
        if (typeof name !== 'string') throw new TypeError('keys() needs a state descriptor or its name');
        this.checkOpen(`keys("${name}")`);
        return this._keys(this.slotOf(op, name, undefined));
      },
    } as AnyOperatorStateHandle;
    this.handleCache.set(uid, result);
    return result;
  }

  private slotOf(op: OperatorSlot, name: string, type: StateType | undefined): StateSlot {
    const slot = op.states.get(name);
    if (!slot) throw new TypeError(`operator "${op.uid}" has no state "${name}"; it declares ${[...op.states.keys()].map((s) => `"${s}"`).join(', ')}`);
    if (type && slot.descriptor.type !== type) throw new TypeError(`state "${op.uid}"/"${name}" is a ${slot.descriptor.type} state, not a ${type} state`);
    return slot;
  }

  async checkpoint(options?: CheckpointOptions): Promise<void> {
    const position = checkPosition(options, 'checkpoint');
    this.checkOpen('checkpoint()');
    await this._checkpoint(position);
    this.position = position;
  }

  async savepoint(location: string, options?: SavepointOptions): Promise<SavepointWritten> {
    if (typeof location !== 'string' || !location) throw new TypeError('savepoint() needs a location (a directory or an s3:// URL)');
    const position = checkPosition(options, 'savepoint') ?? this.position;
    this.checkOpen('savepoint()');
    // The key groups this instance serves: one instance of several writes a partial savepoint.
    const layout: SavepointLayout = { ...this.savepointLayout(), keyGroupRanges: [this.keyGroupRange], ...(position ? { position } : {}) };
    // The writer is created before anything is awaited by the backend, so the cut is taken now.
    const cut = this._beginExport();
    let writer: SavepointWriter | undefined;
    try {
      writer = await SavepointWriter.create(location, layout, options?.storage);
      await this._exportState(writer, cut);
      const metadata = await writer.commit();
      const entries = metadata.files.reduce((n, f) => n + f.entries, 0);
      const bytes = metadata.files.reduce((n, f) => n + f.size, 0);
      return { location, entries, bytes };
    } catch (error) {
      await writer?.abort();
      throw error;
    } finally {
      await cut.release?.();
    }
  }

  /**
   * The operators and states (with their schema version tables) a savepoint of this backend holds:
   * one version per state, the serializer it writes with (a restore's reconfigured one included).
   */
  protected savepointLayout(): SavepointLayout {
    const layout = layoutOfJob(this.job);
    for (const op of this.operatorSlots) {
      for (const slot of op.states.values()) {
        const state = layout.operators[op.index].states[slot.stateIndex];
        state.versions = [{ id: FIRST_VERSION, snapshot: slot.writer.snapshot() }];
        if (slot.mapKeyWriter) state.mapKey = slot.mapKeyWriter.snapshot();
      }
    }
    return layout;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handleCache.clear();
    try {
      await this._close();
    } finally {
      await this.unlockDirectory?.();
    }
  }

  /**
   * The open of a backend whose state lives in memory and whose checkpoints live in `options.dir`:
   * locks the directory (BackendLockedError when another backend has it; `close` lets it go), then
   * restores from `restoreFrom` or the last checkpoint there through `restore`. A failed restore
   * closes the backend, so the directory is free again (and removed, if this open made it).
   */
  protected async restoreOnOpen(options: BackendOpenOptions<J>, restore: (location: string) => Promise<void>): Promise<void> {
    const made = options.dir !== undefined && !existsSync(options.dir);
    if (options.dir) this.unlockDirectory = await lockDirectory(options.dir);
    try {
      const from = await restoreSource(options);
      if (from) await restore(from);
    } catch (error) {
      await this.close();
      if (made) await rm(options.dir!, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * The restore driver: opens the savepoint, plans the restore (every rule, before any data is
   * read), makes the slots write with the plan's serializers, and hands each matched operator's
   * blocks to `_restoreOperator`.
   */
  protected async restoreFrom(location: string, options: BackendOpenOptions<J>): Promise<{ savepoint: Savepoint; plan: RestorePlan }> {
    const savepoint = await openSavepoint(location, options.storage);
    // Values that gain a TTL get the time of the restore, also when they are read (migrated) later.
    const restoredAt = this.clock();
    // The instance's key groups: a partial savepoint must hold them all (rule 2).
    const plan = planRestore(savepoint.metadata, this.job, {
      allowNonRestoredState: options.allowNonRestoredState,
      allowPartialSavepoint: options.allowPartialSavepoint,
      allowJobNameChange: options.allowJobNameChange,
      keyGroupRange: this.keyGroupRange,
      now: () => restoredAt,
    });
    assertRestorable(plan);
    this.restorePlan = plan;
    this.applyPlanWriters(plan);
    this.position = savepoint.metadata.position;
    return { savepoint, plan };
  }

  /** After a plan: restored states keep writing with the plan's writers (a reconfigured serializer stays). */
  protected applyPlanWriters(plan: RestorePlan): void {
    for (const opPlan of plan.operators) {
      if (opPlan.status !== 'matched') continue;
      const op = this.byUid.get(opPlan.uid)!;
      for (const s of opPlan.states) {
        if (s.status !== 'restored' || !s.writer) continue;
        op.states.get(s.state)!.useWriters(s.writer, s.mapKeyWriter);
      }
    }
  }

  protected operatorSlot(uid: string): OperatorSlot {
    return this.byUid.get(uid)!;
  }

  // The private API, implemented by each backend.
  abstract _get(slot: StateSlot, key: unknown, namespace: unknown): unknown;
  abstract _put(slot: StateSlot, key: unknown, namespace: unknown, stored: unknown, encoded: Uint8Array): void;
  abstract _delete(slot: StateSlot, key: unknown, namespace: unknown): void;
  abstract _getList(slot: StateSlot, key: unknown, namespace: unknown): unknown[];
  abstract _putList(slot: StateSlot, key: unknown, namespace: unknown, stored: unknown[], encoded: Uint8Array): void;
  abstract _appendList(slot: StateSlot, key: unknown, namespace: unknown, stored: unknown[], encoded: Uint8Array): void;
  abstract _getMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): unknown;
  abstract _putMapValues(slot: StateSlot, key: unknown, namespace: unknown, entries: MapEntryWrite[]): void;
  abstract _deleteMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): void;
  abstract _mapEntries(slot: StateSlot, key: unknown, namespace: unknown): AsyncIterable<[unknown, unknown]>;
  abstract _keys(slot: StateSlot): AsyncIterable<{ key: unknown; namespace: unknown }>;
  /** Makes every write so far durable with `position`, atomically. */
  protected abstract _checkpoint(position: Uint8Array | undefined): Promise<void>;
  /** Takes a consistent cut synchronously (no await before it), for `_exportState`. */
  protected abstract _beginExport(): ExportCut;
  /** Streams the cut into the writer's data files. */
  protected abstract _exportState(writer: SavepointWriter, cut: ExportCut): Promise<void>;
  protected abstract _close(): Promise<void>;
}

/** A consistent cut of a backend's state, taken synchronously; released when the savepoint ends. */
export interface ExportCut {
  release?(): void | Promise<void>;
}
