/**
 * The savepoint corruption suite through a backend's restore: a small savepoint of several formats
 * (core built-ins, pojo, Avro; value, list and map states; a namespaced operator), every byte of
 * `_metadata` and of one data file flipped and every truncation, each restored into a new
 * directory and read back entry by entry: a typed stateshift error or the original values.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob, int32, int64, list, listState, mapState, operator, string, valueState, type AnyOperatorStateHandle, type BackendOpenOptions, type JobDeclaration, type StateBackend } from '@stateshift/core';
import { avro } from '@stateshift/avro';
import { pojo } from '@stateshift/pojo';
import { runCorruptionSuite, type CorruptionOptions, type CorruptionReport } from '@stateshift/savepoint/testing';
import { collect } from './common.js';
import { MAX_PARALLELISM } from './fixtures.js';

/** The job the suite damages savepoints of. */
export function corruptionJob() {
  const count = valueState('count', int64());
  const profile = valueState('profile', pojo<{ name: string; tags: string[] }>('Profile', { name: string(), tags: list(string()) }));
  const record = valueState('record', avro({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'long' }, { name: 's', type: 'string' }] }));
  const events = listState('events', string());
  const byDay = mapState('byDay', string(), int32());
  const orders = operator({ uid: 'orders', key: string(), states: [count, profile, record, events, byDay] });
  const sum = valueState('sum', int64());
  const windows = operator({ uid: 'windows', key: string(), namespace: int64(), states: [sum] });
  const job = defineJob({ name: 'corruption', maxParallelism: MAX_PARALLELISM, operators: [orders, windows] });
  return { job, orders, count, profile, record, events, byDay, windows, sum };
}

type CorruptionJob = ReturnType<typeof corruptionJob>;

/** A few keys in every state. */
export function fillCorruptionJob(backend: StateBackend<CorruptionJob['job']>, j: CorruptionJob): void {
  const op = backend.operator(j.orders);
  for (let i = 0; i < 3; i++) {
    const key = `user-${i}`;
    op.value(j.count).set(key, BigInt(i) * 1000n + 7n);
    op.value(j.profile).set(key, { name: `n${i}`, tags: ['a', `t${i}`] });
    op.value(j.record).set(key, { n: BigInt(-i), s: `r${i}` });
    op.list(j.events).addAll(key, [`e${i}`, 'x']);
    op.map(j.byDay).putAll(key, [['mon', i], ['tue', i + 1]]);
  }
  const windows = backend.operator(j.windows);
  for (let w = 0; w < 2; w++) windows.value(j.sum).set(`w${w}`, BigInt(w * 3), BigInt(w) * 60_000n);
}

/** Every entry of every state, read through the backend's handles (values copied to plain data). */
export async function readEveryEntry(backend: StateBackend, job: JobDeclaration): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const decl of job.operators) {
    const op = backend.operator(decl.uid) as AnyOperatorStateHandle;
    for (const state of decl.states) {
      for (const { key, namespace } of await collect(op.keys(state.name))) {
        let value: unknown;
        if (state.type === 'value') value = op.value(state.name as never).get(key as never, namespace as never);
        else if (state.type === 'list') value = op.list(state.name as never).get(key as never, namespace as never);
        else value = await collect(op.map(state.name as never).entries(key as never, namespace as never));
        out.push([decl.uid, state.name, key, namespace, plain(value)]);
      }
    }
  }
  return out;
}

/** Avro records are class instances: compare their fields. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export interface BackendCorruptionOptions extends CorruptionOptions {
  /** Opens the backend; called with a new, empty `dir` each time. */
  factory: (options: BackendOpenOptions & { dir: string }) => Promise<StateBackend>;
}

/**
 * Writes a savepoint of the corruption job with the backend, then runs every corruption case of
 * `_metadata` and of its largest data file through a restore into a new directory and a full read.
 */
export async function runBackendCorruptionSuite(options: BackendCorruptionOptions): Promise<CorruptionReport> {
  const root = await mkdtemp(join(tmpdir(), 'stateshift-corruption-'));
  try {
    const j = corruptionJob();
    let dirs = 0;
    const fresh = async () => {
      const dir = join(root, `db-${dirs++}`);
      await mkdir(dir);
      return dir;
    };
    const writer = await options.factory({ job: j.job, dir: await fresh() });
    const savepoint = join(root, 'sp');
    try {
      fillCorruptionJob(writer as unknown as StateBackend<CorruptionJob['job']>, j);
      await writer.savepoint(savepoint);
    } finally {
      await writer.close();
    }
    const data = await largestDataFile(savepoint);
    return await runCorruptionSuite({
      ...options,
      dir: savepoint,
      files: ['_metadata', data],
      async read(sp) {
        const dir = await fresh();
        try {
          const backend = await options.factory({ job: j.job, dir, restoreFrom: sp });
          try {
            return await readEveryEntry(backend, j.job);
          } finally {
            await backend.close();
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function largestDataFile(dir: string): Promise<string> {
  let best = { name: '', size: -1 };
  for (const name of await readdir(dir)) {
    if (name === '_metadata') continue;
    const { size } = await stat(join(dir, name));
    if (size > best.size) best = { name, size };
  }
  if (!best.name) throw new Error(`the savepoint at ${dir} holds no data file`);
  return best.name;
}
