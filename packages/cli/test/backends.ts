/**
 * The backends the matrix runs on, in one place (their handle API is the only backend code the CLI
 * tests touch): heap, LSM eager, LSM lazy.
 */
import { join } from 'node:path';
import type { JobDeclaration, KeyGroupRange } from '@stateshift/core';
import { openHeapBackend } from '@stateshift/backend-heap';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { tempDir } from './helpers.js';

/** What the tests use of a backend; handle calls may return values or promises (both are awaited). */
export interface StateBackend {
  readonly job: JobDeclaration;
  readonly keyGroupRange: KeyGroupRange;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  operator(uid: string): any;
  savepoint(dir: string): Promise<unknown>;
  close(): Promise<void>;
}

export type BackendKind = 'heap' | 'lsm-eager' | 'lsm-lazy';
export const BACKEND_KINDS: BackendKind[] = ['heap', 'lsm-eager', 'lsm-lazy'];

/** One instance of `instance.parallelism` serves part of the key groups. */
export async function openBackend(kind: BackendKind, job: JobDeclaration, restoreFrom?: string, instance: { parallelism?: number; index?: number } = {}): Promise<StateBackend> {
  if (kind === 'heap') return (await openHeapBackend({ job, restoreFrom, ...instance })) as unknown as StateBackend;
  return (await openLsmBackend({ job, restoreFrom, dir: join(await tempDir(), 'db'), migration: kind === 'lsm-lazy' ? 'lazy' : 'eager', ...instance })) as unknown as StateBackend;
}

/** A value state's value (a handle call that returns a value or a promise of one). */
export async function getValue(backend: StateBackend, uid: string, state: string, key: unknown, namespace?: unknown): Promise<unknown> {
  return backend.operator(uid).value(state).get(key, namespace);
}

export interface Row {
  uid: string;
  state: string;
  key: unknown;
  namespace?: unknown;
  mapKey?: unknown;
  value: unknown;
}

/** Writes rows through the handles: value set, list add, map put. */
export async function writeRows(backend: StateBackend, rows: Iterable<Row>): Promise<void> {
  for (const r of rows) {
    const op = backend.operator(r.uid);
    const declared = backend.job.operator(r.uid)!.state(r.state)!;
    if (declared.type === 'value') await op.value(r.state).set(r.key, r.value, r.namespace);
    else if (declared.type === 'list') await op.list(r.state).add(r.key, r.value, r.namespace);
    else await op.map(r.state).put(r.key, r.mapKey, r.value, r.namespace);
  }
}
