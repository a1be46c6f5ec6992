/**
 * The state API every backend offers (heap, LSM), so jobs and the shared backend suite run on any
 * of them. Methods are async because the LSM backend reads from disk; the heap backend resolves at
 * once. A missing key reads as `undefined` (value, map) or `[]` (list).
 */
import type { JobDeclaration, KeyGroupRange } from '@stateshift/core';
import type { RestorePlan } from './restore-plan.js';
import type { SavepointMetadata } from './metadata.js';

export interface BackendOpenOptions {
  job: JobDeclaration;
  /** A savepoint directory to restore from. */
  restoreFrom?: string;
  /** Restore although the savepoint holds operators or states the job does not declare. */
  allowNonRestoredState?: boolean;
  /** Restore and serve only the key groups of operator instance `index` of `parallelism` (rescaling). */
  parallelism?: number;
  index?: number;
  /** The clock for TTL, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

export interface ValueStateHandle<K, T, N = undefined> {
  get(key: K, namespace?: N): Promise<T | undefined>;
  set(key: K, value: T, namespace?: N): Promise<void>;
  /** Reads, applies `fn`, writes the result and returns it. */
  update(key: K, fn: (current: T | undefined) => T, namespace?: N): Promise<T>;
  clear(key: K, namespace?: N): Promise<void>;
}

export interface ListStateHandle<K, E, N = undefined> {
  get(key: K, namespace?: N): Promise<E[]>;
  add(key: K, element: E, namespace?: N): Promise<void>;
  addAll(key: K, elements: E[], namespace?: N): Promise<void>;
  /** Replaces the whole list. */
  update(key: K, elements: E[], namespace?: N): Promise<void>;
  clear(key: K, namespace?: N): Promise<void>;
}

export interface MapStateHandle<K, UK, UV, N = undefined> {
  get(key: K, mapKey: UK, namespace?: N): Promise<UV | undefined>;
  put(key: K, mapKey: UK, value: UV, namespace?: N): Promise<void>;
  putAll(key: K, entries: Iterable<[UK, UV]>, namespace?: N): Promise<void>;
  remove(key: K, mapKey: UK, namespace?: N): Promise<void>;
  contains(key: K, mapKey: UK, namespace?: N): Promise<boolean>;
  entries(key: K, namespace?: N): AsyncIterable<[UK, UV]>;
  clear(key: K, namespace?: N): Promise<void>;
}

export interface OperatorStateHandle<K, N = undefined> {
  readonly uid: string;
  value<T>(state: string): ValueStateHandle<K, T, N>;
  list<E>(state: string): ListStateHandle<K, E, N>;
  map<UK, UV>(state: string): MapStateHandle<K, UK, UV, N>;
  /** Every key (and namespace) that has an entry in `state`. */
  keys(state: string): AsyncIterable<{ key: K; namespace: N }>;
}

export interface StateBackend {
  readonly job: JobDeclaration;
  /** How the restore was decided; undefined when the backend started empty. */
  readonly restorePlan: RestorePlan | undefined;
  /** The key groups this instance serves. */
  readonly keyGroupRange: KeyGroupRange;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  operator<K = any, N = undefined>(uid: string): OperatorStateHandle<K, N>;
  /** Writes a savepoint of a consistent cut of all state into `dir` (which must not exist or be empty). */
  savepoint(dir: string): Promise<SavepointMetadata>;
  close(): Promise<void>;
}
