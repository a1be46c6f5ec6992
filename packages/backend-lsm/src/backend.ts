/**
 * The LSM backend: state as bytes in LevelDB (classic-level). A restore copies the savepoint's
 * bytes as they are; states that must migrate are rewritten eagerly (a resumable pass) or lazily
 * (each read decodes through its entry's schema version; writes use the newest).
 */
import {
  keyGroupInRange,
  keyGroupRangeForOperator,
  RestoreError,
  snapshotToBytes,
  storedValueSerializer,
  TTL_KIND,
  type JobDeclaration,
  type KeyGroupRange,
  type StateDescriptor,
} from '@stateshift/core';
import {
  assertRestorable,
  entryDecoder,
  layoutOfJob,
  openSavepoint,
  planRestore,
  SavepointWriter,
  stateMetadataOf,
  type BackendOpenOptions,
  type DataFileWriter,
  type OperatorStateHandle,
  type RestorePlan,
  type SavepointMetadata,
  type StateBackend,
  type StateMetadata,
} from '@stateshift/savepoint';
import { ClassicLevel } from 'classic-level';
import { listHandle, mapHandle, valueHandle, type HandleContext } from './handles.js';
import { entryKey, entryKeyOf, entryValue, keyPart, parseKey, parseValue, prefixEnd, Sequence, splitRest, statePrefix } from './layout.js';
import { loadMetadata, saveMetadata, stateName, type Db, type LocalMetadata } from './local-metadata.js';
import { migrateState, type MigrationProgress } from './migration.js';
import { bytesOf, expiredBytes, locateKey, readAll, type OperatorRuntime, type StateRuntime } from './state-runtime.js';

export type MigrationMode = 'eager' | 'lazy';

export interface LsmOpenOptions extends BackendOpenOptions {
  /** The database directory. Reopening it restores the state it holds, no savepoint needed. */
  dir: string;
  /** How states that must migrate are migrated: one mode, or a default and modes per "uid/state". Default eager. */
  migration?: MigrationMode | { default: MigrationMode; states?: Record<string, MigrationMode> };
  /** Called during eager passes (and the background pass) after every batch. */
  onProgress?(progress: MigrationProgress): void;
  /** Lazy mode: start a background pass that migrates the rest, at most this many entries per second (0: no limit). */
  backgroundMigration?: { rate?: number };
  /** Sync every write to disk (survives power loss, not only a process crash). Default false. */
  sync?: boolean;
}

const BATCH = 1000;
/** Restores copy bytes in larger batches: one native call each. */
const INGEST_BATCH = 5000;

function modeOf(options: LsmOpenOptions, uid: string, state: string): MigrationMode {
  const m = options.migration ?? 'eager';
  if (typeof m === 'string') return m;
  return m.states?.[stateName(uid, state)] ?? m.default;
}

export class LsmBackend implements StateBackend {
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly sequence: Sequence;
  readonly operators = new Map<string, OperatorRuntime>();
  readonly byId = new Map<number, StateRuntime>();
  /** The background pass of lazy migration, when one runs. */
  background?: BackgroundMigration;

  constructor(
    readonly db: Db,
    readonly job: JobDeclaration,
    readonly keyGroupRange: KeyGroupRange,
    readonly restorePlan: RestorePlan | undefined,
    readonly meta: LocalMetadata,
    private readonly options: LsmOpenOptions,
  ) {
    this.sequence = new Sequence(meta.epoch);
  }

  now(): number {
    return (this.options.now ?? Date.now)();
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private operatorRuntime(uid: string): OperatorRuntime {
    if (this.closed) throw new TypeError('this backend is closed');
    const op = this.operators.get(uid);
    if (!op) throw new TypeError(`job "${this.job.name}" has no operator "${uid}"; it has ${[...this.operators.keys()].map((u) => `"${u}"`).join(', ')}`);
    return op;
  }

  private runtime(uid: string, state: string, type: StateDescriptor['type'] | undefined): StateRuntime {
    const op = this.operatorRuntime(uid);
    const runtime = op.states.get(state);
    if (!runtime) throw new TypeError(`operator "${uid}" has no state "${state}"; it declares ${[...op.states.keys()].map((s) => `"${s}"`).join(', ')}`);
    if (type && runtime.descriptor.type !== type) throw new TypeError(`state "${uid}"/"${state}" is a ${runtime.descriptor.type} state, not a ${type} state`);
    return runtime;
  }

  private context(uid: string, state: string, type: StateDescriptor['type']): HandleContext {
    const runtime = this.runtime(uid, state, type);
    const declaration = this.operators.get(uid)!.declaration;
    const range = this.keyGroupRange;
    return {
      db: this.db,
      state: runtime,
      sequence: this.sequence,
      now: () => this.now(),
      exclusive: (fn) => this.exclusive(fn),
      writeOptions: { sync: !!this.options.sync },
      locate: (key, namespace) => {
        const at = locateKey(declaration, this.job.maxParallelism, key, namespace);
        if (!keyGroupInRange(at.keyGroup, range)) {
          throw new RangeError(`key ${String(key)} is in key group ${at.keyGroup}, which this instance (key groups ${range.start}-${range.end}) does not serve`);
        }
        return at;
      },
    };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  operator<K = any, N = undefined>(uid: string): OperatorStateHandle<K, N> {
    const op = this.operatorRuntime(uid);
    return {
      uid,
      value: (state) => valueHandle(this.context(uid, state, 'value')),
      list: (state) => listHandle(this.context(uid, state, 'list')),
      map: (state) => mapHandle(this.context(uid, state, 'map')),
      keys: (state) => this.keys<K, N>(this.runtime(uid, state, undefined), op),
    };
  }

  private keys<K, N>(state: StateRuntime, op: OperatorRuntime): AsyncIterable<{ key: K; namespace: N }> {
    const db = this.db;
    const prefix = statePrefix(state.id);
    return (async function* () {
      let last: Uint8Array | undefined;
      for await (const key of db.keys({ gte: prefix, lt: prefixEnd(prefix) })) {
        const { key: keyBytes, namespace } = splitRest(parseKey(key).rest);
        const keyNs = keyPart(keyBytes, namespace);
        if (last && Buffer.compare(last, keyNs) === 0) continue;
        last = keyNs;
        yield {
          key: readAll(op.declaration.keySerializer, keyBytes) as K,
          namespace: (op.declaration.namespaceSerializer ? readAll(op.declaration.namespaceSerializer, namespace) : undefined) as N,
        };
      }
    })();
  }

  /**
   * Streams a savepoint from one LevelDB snapshot (an iterator made before anything is awaited), so
   * writes that follow are not in it. Entries keep their schema version ids: nothing is re-encoded.
   */
  async savepoint(dir: string): Promise<SavepointMetadata> {
    if (this.closed) throw new TypeError('this backend is closed');
    const iterator = this.db.iterator({ gte: statePrefix(0), lt: statePrefix(0xffff) });
    const now = this.now();
    const layout = { ...this.meta.layout, jobName: this.job.name };
    const ttlVersions = new Map<number, Set<number>>();
    for (const state of this.byId.values()) {
      const versions = layout.operators[state.operatorIndex].states[state.stateIndex].versions;
      ttlVersions.set(state.id, new Set(versions.filter((v) => v.snapshot.kind === TTL_KIND).map((v) => v.id)));
    }
    let writer: SavepointWriter | undefined;
    try {
      writer = await SavepointWriter.create(dir, layout);
      let file: DataFileWriter | undefined;
      let current: StateRuntime | undefined;
      for (;;) {
        const batch = await iterator.nextv(BATCH);
        if (!batch.length) break;
        for (const [key, value] of batch) {
          const { stateId, keyGroup, rest } = parseKey(key);
          const state = this.byId.get(stateId);
          if (!state || !keyGroupInRange(keyGroup, this.keyGroupRange)) continue;
          if (state !== current) {
            if (file) await writer.closeDataFile(file);
            current = state;
            file = await writer.openDataFile(state.uid, this.keyGroupRange, `s${state.stateIndex}`);
          }
          const { version, bytes } = parseValue(value);
          if (expiredBytes(state, version, bytes, now, ttlVersions.get(stateId)!)) continue;
          const parts = splitRest(rest);
          const flushing = file!.append({
            state: state.stateIndex,
            keyGroup,
            key: parts.key,
            namespace: parts.namespace,
            mapKey: state.descriptor.type === 'map' ? parts.suffix : new Uint8Array(0),
            version,
            value: bytes,
          });
          if (flushing) await flushing;
        }
      }
      if (file) await writer.closeDataFile(file);
      return await writer.commit();
    } catch (error) {
      await writer?.abort();
      throw error;
    } finally {
      await iterator.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.background?.stop();
    await this.lock;
    await this.db.close();
  }

  /** Replaces a state's version table (after a pass), keeping the rest of the metadata. */
  async setVersions(state: StateRuntime, versions: StateMetadata['versions']): Promise<void> {
    this.meta.layout.operators[state.operatorIndex].states[state.stateIndex].versions = versions;
    for (const id of [...state.readers.keys()]) if (!versions.some((v) => v.id === id)) state.readers.delete(id);
    await saveMetadata(this.db, this.meta);
  }
}

/** The lazy mode's background pass: rate-limited, pausable, retires old versions when done. */
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

  /** Called by the pass between batches: false when it must stop. */
  async checkpoint(): Promise<boolean> {
    while (this.paused && !this.stopped) await new Promise<void>((r) => (this.wake = r));
    return !this.stopped;
  }
}

/** Opens (or creates) the database in `options.dir`, restoring from a savepoint or from what it holds. */
export async function openLsmBackend(options: LsmOpenOptions): Promise<LsmBackend> {
  const { job } = options;
  if (!job || !Array.isArray(job.operators)) throw new TypeError('openLsmBackend() needs { job } (a defineJob result)');
  if (typeof options.dir !== 'string' || !options.dir) throw new TypeError('openLsmBackend() needs { dir }, the database directory');
  const range =
    options.parallelism === undefined ? { start: 0, end: job.maxParallelism - 1 } : keyGroupRangeForOperator(options.index ?? 0, options.parallelism, job.maxParallelism);
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(options.dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    return await restore(db, options, range);
  } catch (error) {
    await db.close();
    throw error;
  }
}

async function restore(db: Db, options: LsmOpenOptions, range: KeyGroupRange): Promise<LsmBackend> {
  const { job } = options;
  const stored = await loadMetadata(db, options.dir);
  if (stored && options.restoreFrom) {
    throw new TypeError(`${options.dir} already holds state; restore a savepoint into an empty directory (or reopen without restoreFrom)`);
  }
  const epoch = Math.max(Date.now(), (stored?.epoch ?? 0) + 1);
  let plan: RestorePlan | undefined;
  let previous: SavepointMetadata | undefined;
  if (options.restoreFrom) {
    const savepoint = await openSavepoint(options.restoreFrom);
    previous = savepoint.metadata;
    plan = planRestore(previous, job, { allowNonRestoredState: options.allowNonRestoredState });
    assertRestorable(plan);
  } else if (stored) {
    previous = stored.layout;
    plan = planRestore(previous, job, { allowNonRestoredState: options.allowNonRestoredState });
    assertRestorable(plan);
    const rekeyed = plan.operators.filter((op) => op.rekey || op.states.some((s) => s.rekeyMapKeys)).map((op) => `"${op.uid}"`);
    if (rekeyed.length) {
      throw new RestoreError(
        `the key, namespace or map-key serializer of operator${rekeyed.length > 1 ? 's' : ''} ${rekeyed.join(', ')} changed, so entries must be re-keyed: ` +
          'take a savepoint with the previous version and restore it into a new directory (re-keying happens while restoring)',
      );
    }
  }

  // The layout: every operator and state of the job; restored states keep their stored versions.
  const layout: SavepointMetadata = { ...layoutOfJob(job), createdAt: Date.now(), files: [] };
  const stateIds = stored?.stateIds.slice() ?? [];
  const meta: LocalMetadata = { layout, stateIds, epoch };
  const backend = new LsmBackend(db, job, range, plan, meta, options);
  const migrations: StateRuntime[] = [];
  job.operators.forEach((declaration, operatorIndex) => {
    const opPlan = plan?.operators.find((o) => o.uid === declaration.uid);
    const states = new Map<string, StateRuntime>();
    declaration.states.forEach((descriptor, stateIndex) => {
      const name = stateName(declaration.uid, descriptor.name);
      let id = stateIds.indexOf(name);
      if (id < 0 || options.restoreFrom) {
        if (options.restoreFrom && id >= 0) stateIds[id] = null;
        id = stateIds.push(name) - 1;
      }
      const statePlan = opPlan?.states.find((s) => s.state === descriptor.name);
      const writer = statePlan?.writer ?? storedValueSerializer(descriptor);
      const readers: StateRuntime['readers'] = new Map();
      let versions = stateMetadataOf(descriptor).versions;
      let migrates = false;
      if (statePlan?.status === 'restored') {
        // Stored versions stay readable through the plan's readers; a new writer gets a new version id.
        const storedVersions = statePlan.metadata!.versions;
        for (const v of statePlan.values) readers.set(v.version!, v.reader!);
        const newest = storedVersions[storedVersions.length - 1];
        const same = Buffer.compare(snapshotToBytes(newest.snapshot), snapshotToBytes(writer.snapshot())) === 0;
        versions = same ? storedVersions : [...storedVersions, { id: Math.max(...storedVersions.map((v) => v.id)) + 1, snapshot: writer.snapshot() }];
        migrates = versions.length > 1;
      }
      const newestId = versions[versions.length - 1].id;
      readers.set(newestId, writer);
      layout.operators[operatorIndex].states[stateIndex] = { ...layout.operators[operatorIndex].states[stateIndex], versions };
      const runtime: StateRuntime = {
        id,
        uid: declaration.uid,
        descriptor,
        operatorIndex,
        stateIndex,
        writer,
        newest: newestId,
        readers,
        mapKeyWriter: statePlan?.mapKeyWriter ?? (descriptor.type === 'map' ? descriptor.keySerializer : undefined),
      };
      if (migrates) migrations.push(runtime);
      states.set(descriptor.name, runtime);
      backend.byId.set(id, runtime);
    });
    backend.operators.set(declaration.uid, { declaration, index: operatorIndex, states });
  });
  // Ids of states no longer declared are retired; their entries are removed below.
  const retired: number[] = [];
  stateIds.forEach((name, id) => {
    if (name !== null && !backend.byId.has(id)) {
      retired.push(id);
      stateIds[id] = null;
    }
  });

  const ingested = options.restoreFrom ? await ingest(backend, options.restoreFrom, plan!, range) : undefined;
  for (const id of retired) await db.clear({ gte: statePrefix(id), lt: prefixEnd(statePrefix(id)) });
  await saveMetadata(db, meta);

  // States whose entries must change: eager now, or lazy (reads decode per version).
  const lazy: StateRuntime[] = [];
  for (const state of migrations) {
    if (modeOf(options, state.uid, state.descriptor.name) === 'eager') {
      await migrateState(backend, state, { onProgress: options.onProgress, total: ingested?.get(state.id) });
    } else lazy.push(state);
  }
  if (lazy.length && options.backgroundMigration) {
    const rate = options.backgroundMigration.rate ?? 0;
    backend.background = new BackgroundMigration(async (control) => {
      for (const state of lazy) await migrateState(backend, state, { onProgress: options.onProgress, rate, control });
    });
  }
  return backend;
}

/**
 * Copies a savepoint's entries in, as bytes; re-keys (decodes and re-encodes) only where keys
 * migrate. Returns, per state id, how many entries were copied as stored (left for a migration).
 */
async function ingest(backend: LsmBackend, dir: string, plan: RestorePlan, range: KeyGroupRange): Promise<Map<number, number>> {
  const copied = new Map<number, number>();
  const savepoint = await openSavepoint(dir);
  const sequence = new Sequence(backend.meta.epoch - 1);
  for (const opPlan of plan.operators) {
    if (opPlan.status !== 'matched') continue;
    const op = backend.operators.get(opPlan.uid)!;
    const bySavepointIndex = new Map<number, StateRuntime>();
    for (const s of opPlan.states) if (s.status === 'restored') bySavepointIndex.set(s.savepointIndex!, op.states.get(s.state)!);
    const rekey = opPlan.rekey || opPlan.states.some((s) => s.rekeyMapKeys);
    const decode = rekey ? entryDecoder(opPlan) : undefined;
    let batch: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
    for await (const block of savepoint.blocks(opPlan.uid, rekey ? {} : { range })) {
      for (const raw of block) {
        const state = bySavepointIndex.get(raw.state);
        if (!state) continue;
        const suffixOf = (mapKey: Uint8Array) => (state.descriptor.type === 'map' ? mapKey : state.descriptor.type === 'list' ? sequence.next() : undefined);
        if (decode) {
          // Re-keyed entries are decoded anyway: store them at the newest version.
          const entry = decode(raw)!;
          const at = locateKey(op.declaration, backend.job.maxParallelism, entry.key, entry.namespace);
          if (!keyGroupInRange(at.keyGroup, range)) continue;
          const mapKey = state.descriptor.type === 'map' ? bytesOf(state.mapKeyWriter!, entry.mapKey) : raw.mapKey;
          batch.push({ type: 'put', key: entryKey(state.id, at.keyGroup, at.keyNs, suffixOf(mapKey)), value: entryValue(state.newest, bytesOf(state.writer, entry.value)) });
        } else {
          if (!keyGroupInRange(raw.keyGroup, range)) continue;
          batch.push({ type: 'put', key: entryKeyOf(state.id, raw.keyGroup, raw.key, raw.namespace, suffixOf(raw.mapKey)), value: entryValue(raw.version, raw.value) });
        }
        if (!decode && raw.version !== state.newest) copied.set(state.id, (copied.get(state.id) ?? 0) + 1);
        if (batch.length >= INGEST_BATCH) {
          await backend.db.batch(batch);
          batch = [];
        }
      }
    }
    if (batch.length) await backend.db.batch(batch);
  }
  return copied;
}
