/**
 * The state API every backend offers (heap, LSM), typed from the job declaration.
 *
 * Point access is synchronous, as in Flink, better-sqlite3 and lmdb-js: a stream processor touches
 * state on every record, so `get`, `set`, `update`, `clear` (and the list and map equivalents) return
 * values, not promises. `update(key, fn)` is therefore atomic, and no forgotten `await` can lose a
 * write. Iteration, `checkpoint`, `savepoint`, `flush` and `close` are async.
 *
 * A missing key reads as `undefined` (value, map) or `[]` (list). Values are copied in and out: a
 * value mutated after `set` or after `get` does not change the state.
 */
import type { KeyGroupRange } from './key-groups.js';
import type { StorageOptions } from './storage-options.js';
import type {
  JobDeclaration,
  MapKeyOf,
  OperatorNamed,
  StateDescriptor,
  StateNamed,
  StateNames,
  StatesOf,
  KeyOf,
  NamespaceOf,
  ValueOf,
} from './state.js';

export interface ValueStateHandle<K, T, N = undefined> {
  readonly name: string;
  get(key: K, namespace?: N): T | undefined;
  set(key: K, value: T, namespace?: N): void;
  /** Reads, applies `fn`, writes the result and returns it, in one synchronous step. */
  update(key: K, fn: (current: T | undefined) => T, namespace?: N): T;
  clear(key: K, namespace?: N): void;
}

export interface ListStateHandle<K, E, N = undefined> {
  readonly name: string;
  get(key: K, namespace?: N): E[];
  add(key: K, element: E, namespace?: N): void;
  addAll(key: K, elements: readonly E[], namespace?: N): void;
  /** Replaces the whole list (an empty array clears it). */
  update(key: K, elements: readonly E[], namespace?: N): void;
  clear(key: K, namespace?: N): void;
}

export interface MapStateHandle<K, UK, UV, N = undefined> {
  readonly name: string;
  get(key: K, mapKey: UK, namespace?: N): UV | undefined;
  put(key: K, mapKey: UK, value: UV, namespace?: N): void;
  /** Puts every entry, or none when one of them is invalid. */
  putAll(key: K, entries: Iterable<readonly [UK, UV]>, namespace?: N): void;
  remove(key: K, mapKey: UK, namespace?: N): void;
  contains(key: K, mapKey: UK, namespace?: N): boolean;
  /** The entries as they are when iteration starts. */
  entries(key: K, namespace?: N): AsyncIterable<[UK, UV]>;
  clear(key: K, namespace?: N): void;
}

/** The handles of one operator's states, typed from its declaration. */
export interface OperatorStateHandle<K, N, S extends readonly StateDescriptor[] = readonly StateDescriptor[]> {
  readonly uid: string;
  value<D extends Extract<S[number], { readonly type: 'value' }>>(state: D): ValueStateHandle<K, ValueOf<D>, N>;
  value<Name extends StateNames<S, 'value'>>(state: Name): ValueStateHandle<K, ValueOf<StateNamed<S, Name, 'value'>>, N>;
  list<D extends Extract<S[number], { readonly type: 'list' }>>(state: D): ListStateHandle<K, ValueOf<D>, N>;
  list<Name extends StateNames<S, 'list'>>(state: Name): ListStateHandle<K, ValueOf<StateNamed<S, Name, 'list'>>, N>;
  map<D extends Extract<S[number], { readonly type: 'map' }>>(state: D): MapStateHandle<K, MapKeyOf<D>, ValueOf<D>, N>;
  map<Name extends StateNames<S, 'map'>>(
    state: Name,
  ): MapStateHandle<K, MapKeyOf<StateNamed<S, Name, 'map'>>, ValueOf<StateNamed<S, Name, 'map'>>, N>;
  /** Every key (and namespace) that has an entry in `state`, as they are when iteration starts. */
  keys(state: S[number] | S[number]['name']): AsyncIterable<{ key: K; namespace: N }>;
}

/** What a backend can do beyond the contract; missing flags are false (see `supports`). */
export interface BackendSupports {
  /** Reopening the same `dir` gives back the state of the last checkpoint. */
  readonly persistence: boolean;
  /** Values migrate key by key when read (old schema versions stay alive). */
  readonly lazyMigration: boolean;
  /** A savepoint may hold entries at older schema versions (lazy migration writes bytes as stored). */
  readonly keepsOldVersions: boolean;
  /** A background pass migrates what lazy reads have not. */
  readonly backgroundMigration: boolean;
  /** A restored savepoint is read where it lies while it is copied in. */
  readonly inPlaceRestore: boolean;
  /** Extra public methods, by name. */
  readonly additionalMethods: Readonly<Record<string, boolean>>;
}

/** A manifest with every flag present: missing flags are false. Frozen and JSON-cloneable. */
export function supports(manifest: Partial<BackendSupports> = {}): BackendSupports {
  return Object.freeze({
    persistence: !!manifest.persistence,
    lazyMigration: !!manifest.lazyMigration,
    keepsOldVersions: !!manifest.keepsOldVersions,
    backgroundMigration: !!manifest.backgroundMigration,
    inPlaceRestore: !!manifest.inPlaceRestore,
    additionalMethods: Object.freeze({ ...(manifest.additionalMethods ?? {}) }),
  });
}

export interface BackendOpenOptions<J extends JobDeclaration = JobDeclaration> {
  job: J;
  /**
   * Where the backend keeps its state between runs (the LSM database; the heap backend's
   * checkpoints). Reopening the same directory gives back the last checkpoint.
   */
  dir?: string;
  /** A savepoint to restore from: a directory, or an `s3://bucket/prefix` URL. */
  restoreFrom?: string;
  /** How `restoreFrom` is reached when it is on object storage (endpoint, region, credentials). */
  storage?: StorageOptions;
  /** Restore although the savepoint holds operators or states the job does not declare (they are dropped). */
  allowNonRestoredState?: boolean;
  /** Restore a partial savepoint although it lacks key groups this instance serves (they start empty). */
  allowPartialSavepoint?: boolean;
  /** Restore a savepoint of a job with another name: it is this job, renamed. */
  allowJobNameChange?: boolean;
  /** Serve only the key groups of operator instance `index` of `parallelism` (rescaling). */
  parallelism?: number;
  index?: number;
  /** The clock for TTL, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

export interface CheckpointOptions {
  /** The application's position (a consumer's offsets), stored atomically with the state. */
  position?: Uint8Array;
}

export interface SavepointOptions extends CheckpointOptions {
  /** How the location is reached when it is on object storage (endpoint, region, credentials). */
  storage?: StorageOptions;
}

/** What a savepoint wrote. */
export interface SavepointWritten {
  location: string;
  entries: number;
  bytes: number;
}

/** A keyed state backend for a declared job. */
export interface StateBackend<J extends JobDeclaration = JobDeclaration> {
  readonly job: J;
  /** The key groups this instance serves. */
  readonly keyGroupRange: KeyGroupRange;
  readonly supports: BackendSupports;
  /** The position committed with the checkpoint or savepoint this backend was opened from. */
  readonly position: Uint8Array | undefined;
  /** The handles of an operator, typed from its declaration (or its uid, given a typed job). */
  operator<O extends J['operators'][number]>(operator: O): OperatorStateHandle<KeyOf<O>, NamespaceOf<O>, StatesOf<O>>;
  operator<Uid extends J['operators'][number]['uid']>(
    uid: Uid,
  ): OperatorStateHandle<KeyOf<OperatorNamed<J['operators'], Uid>>, NamespaceOf<OperatorNamed<J['operators'], Uid>>, StatesOf<OperatorNamed<J['operators'], Uid>>>;
  /** Makes every write so far durable, with `position`, atomically. */
  checkpoint(options?: CheckpointOptions): Promise<void>;
  /** Writes a savepoint of a consistent cut of all state (with `position`) to `location`. */
  savepoint(location: string, options?: SavepointOptions): Promise<SavepointWritten>;
  close(): Promise<void>;
}

/** Handles for tools that look operators and states up by name, untyped. */
export type AnyOperatorStateHandle = OperatorStateHandle<unknown, unknown, readonly StateDescriptor[]>;

