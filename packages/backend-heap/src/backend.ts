/**
 * The heap backend: state as objects in memory. A restore reads every entry of the served key
 * groups through its schema version's reader (so migration happens during the restore); a savepoint
 * writes every value with the current serializer.
 */
import {
  keyGroupInRange,
  keyGroupRangeForOperator,
  storedValueSerializer,
  type JobDeclaration,
  type KeyGroupRange,
  type OperatorDeclaration,
  type StateDescriptor,
} from '@stateshift/core';
import {
  assertRestorable,
  entryDecoder,
  layoutOfJob,
  openSavepoint,
  planRestore,
  writeSavepointEntries,
  FIRST_VERSION,
  type BackendOpenOptions,
  type OperatorStateHandle,
  type RawEntry,
  type RestorePlan,
  type SavepointMetadata,
  type StateBackend,
} from '@stateshift/savepoint';
import { listHandle, mapHandle, valueHandle, type HandleContext } from './handles.js';
import { bytesToId, KeyEncoder } from './keys.js';
import { StateTable } from './table.js';
import { Expiry } from './ttl.js';

interface OperatorState {
  declaration: OperatorDeclaration;
  keys: KeyEncoder;
  tables: Map<string, StateTable>;
}

export class HeapBackend implements StateBackend {
  private readonly operators = new Map<string, OperatorState>();
  private closed = false;
  readonly now: () => number;

  constructor(
    readonly job: JobDeclaration,
    readonly keyGroupRange: KeyGroupRange,
    readonly restorePlan: RestorePlan | undefined,
    now?: () => number,
  ) {
    this.now = now ?? Date.now;
    for (const declaration of job.operators) {
      this.operators.set(declaration.uid, {
        declaration,
        keys: new KeyEncoder(declaration.keySerializer, declaration.namespaceSerializer, job.maxParallelism),
        tables: new Map(declaration.states.map((s) => [s.name, new StateTable()])),
      });
    }
  }

  private operatorState(uid: string): OperatorState {
    if (this.closed) throw new TypeError('this backend is closed');
    const op = this.operators.get(uid);
    if (!op) throw new TypeError(`job "${this.job.name}" has no operator "${uid}"; it has ${[...this.operators.keys()].map((u) => `"${u}"`).join(', ')}`);
    return op;
  }

  private context(uid: string, state: string, type: StateDescriptor['type']): HandleContext {
    const op = this.operatorState(uid);
    const descriptor = op.declaration.state(state);
    if (!descriptor) {
      throw new TypeError(`operator "${uid}" has no state "${state}"; it declares ${op.declaration.states.map((s) => `"${s.name}"`).join(', ')}`);
    }
    if (descriptor.type !== type) throw new TypeError(`state "${uid}"/"${state}" is a ${descriptor.type} state, not a ${type} state`);
    const range = this.keyGroupRange;
    return {
      table: op.tables.get(state)!,
      keys: op.keys,
      descriptor,
      expiry: new Expiry(descriptor.options.ttl, this.now),
      checkKeyGroup: (keyGroup, key) => {
        if (!keyGroupInRange(keyGroup, range)) {
          throw new RangeError(`key ${String(key)} is in key group ${keyGroup}, which this instance (key groups ${range.start}-${range.end}) does not serve`);
        }
      },
    };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  operator<K = any, N = undefined>(uid: string): OperatorStateHandle<K, N> {
    const op = this.operatorState(uid);
    return {
      uid,
      value: (state) => valueHandle(this.context(uid, state, 'value')),
      list: (state) => listHandle(this.context(uid, state, 'list')),
      map: (state) => mapHandle(this.context(uid, state, 'map')),
      keys: (state) => {
        const ctx = this.context(uid, state, op.declaration.state(state)?.type ?? 'value');
        const rows = [...ctx.table.rows()];
        return (async function* () {
          for (const row of rows) yield { key: row.key as K, namespace: row.namespace as N };
        })();
      },
    };
  }

  /** Restores `entry` (already decoded through the plan) into its table. */
  insert(uid: string, descriptor: StateDescriptor, keyGroup: number, id: string, key: unknown, namespace: unknown, mapKeyId: string, mapKey: unknown, value: unknown): void {
    const table = this.operators.get(uid)!.tables.get(descriptor.name)!;
    const expiry = new Expiry(descriptor.options.ttl, this.now);
    if (!expiry.alive(value)) return;
    const row = table.get(keyGroup, id);
    switch (descriptor.type) {
      case 'value':
        table.set(keyGroup, id, { key, namespace, data: value });
        break;
      case 'list':
        if (row) (row.data as unknown[]).push(value);
        else table.set(keyGroup, id, { key, namespace, data: [value] });
        break;
      case 'map':
        if (row) (row.data as Map<string, [unknown, unknown]>).set(mapKeyId, [mapKey, value]);
        else table.set(keyGroup, id, { key, namespace, data: new Map([[mapKeyId, [mapKey, value]]]) });
        break;
    }
  }

  /**
   * Writes a savepoint of a consistent cut: every entry is encoded synchronously (no await, so no
   * write can interleave), then the bytes are written out.
   */
  async savepoint(dir: string): Promise<SavepointMetadata> {
    const layout = layoutOfJob(this.job);
    const cut = this.job.operators.map((declaration) => ({ uid: declaration.uid, entries: this.encodeOperator(declaration) }));
    return writeSavepointEntries(dir, layout, this.keyGroupRange, cut);
  }

  private encodeOperator(declaration: OperatorDeclaration): RawEntry[] {
    const op = this.operators.get(declaration.uid)!;
    const now = this.now();
    const entries: RawEntry[] = [];
    const empty = new Uint8Array(0);
    declaration.states.forEach((descriptor, stateIndex) => {
      const table = op.tables.get(descriptor.name)!;
      const expiry = new Expiry(descriptor.options.ttl, this.now);
      const stored = storedValueSerializer(descriptor);
      const bytesOf = (serializer: typeof stored, value: unknown) => op.keys.bytesOf(serializer, value);
      for (const [keyGroup, group] of table.groups) {
        for (const row of group.values()) {
          const key = bytesOf(declaration.keySerializer, row.key);
          const namespace = declaration.namespaceSerializer ? bytesOf(declaration.namespaceSerializer, row.namespace) : empty;
          const push = (mapKey: Uint8Array, value: unknown) => {
            if (expiry.alive(value, now)) entries.push({ state: stateIndex, keyGroup, key, namespace, mapKey, version: FIRST_VERSION, value: bytesOf(stored, value) });
          };
          if (descriptor.type === 'value') push(empty, row.data);
          else if (descriptor.type === 'list') for (const e of row.data as unknown[]) push(empty, e);
          else for (const [mapKey, value] of (row.data as Map<string, [unknown, unknown]>).values()) push(bytesOf(descriptor.keySerializer, mapKey), value);
        }
      }
    });
    return entries;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.operators.clear();
  }
}

/** Opens a heap backend for `options.job`, restoring from `options.restoreFrom` when given. */
export async function openHeapBackend(options: BackendOpenOptions): Promise<HeapBackend> {
  const { job } = options;
  if (!job || !Array.isArray(job.operators)) throw new TypeError('openHeapBackend() needs { job } (a defineJob result)');
  const range =
    options.parallelism === undefined
      ? { start: 0, end: job.maxParallelism - 1 }
      : keyGroupRangeForOperator(options.index ?? 0, options.parallelism, job.maxParallelism);
  if (!options.restoreFrom) return new HeapBackend(job, range, undefined, options.now);

  const savepoint = await openSavepoint(options.restoreFrom);
  const plan = planRestore(savepoint.metadata, job, { allowNonRestoredState: options.allowNonRestoredState });
  assertRestorable(plan);
  const backend = new HeapBackend(job, range, plan, options.now);
  for (const opPlan of plan.operators) {
    if (opPlan.status !== 'matched') continue;
    const declaration = opPlan.declaration!;
    const decode = entryDecoder(opPlan);
    const keys = new KeyEncoder(declaration.keySerializer, declaration.namespaceSerializer, job.maxParallelism);
    // Re-keyed entries may move into this range from anywhere, so then every file is read.
    const filter = opPlan.rekey ? {} : { range };
    for await (const block of savepoint.blocks(opPlan.uid, filter)) {
      for (const raw of block) {
        const entry = decode(raw);
        if (!entry) continue;
        const at = keys.encode(entry.key, entry.namespace);
        if (!keyGroupInRange(at.keyGroup, range)) continue;
        const descriptor = entry.state.descriptor!;
        const mapKeyId = descriptor.type === 'map' ? bytesToId(keys.bytesOf(descriptor.keySerializer, entry.mapKey)) : '';
        backend.insert(opPlan.uid, descriptor, at.keyGroup, at.id, entry.key, entry.namespace, mapKeyId, entry.mapKey, entry.value);
      }
    }
  }
  return backend;
}
