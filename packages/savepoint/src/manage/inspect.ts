/** Reading a savepoint offline: what it holds, and a keyed state's entries as values. */
import { DataInput, type JobDeclaration, type KeyGroupRange, type SchemaDescription } from '@stateshift/core';
import { isFullRange } from '../key-group-ranges.js';
import { keyGroupRangesOf } from '../metadata.js';
import { entryDecoder } from '../decode-entries.js';
import type { Savepoint } from '../reader.js';
import { planRestore } from '../restore-plan.js';

export interface StateSummary {
  name: string;
  type: string;
  mapKey?: SchemaDescription;
  versions: { id: number; kind: string; package: string; schema: SchemaDescription }[];
  entries: number;
  bytes: number;
}

export interface SavepointSummary {
  dir: string;
  jobName: string;
  maxParallelism: number;
  /** The key groups the savepoint holds; fewer than all makes it partial. */
  keyGroupRanges: KeyGroupRange[];
  partial: boolean;
  /** The application position committed with the state, as hex (opaque bytes). */
  position?: string;
  createdAt: string;
  files: number;
  bytes: number;
  entries: number;
  operators: { uid: string; key: SchemaDescription; namespace?: SchemaDescription; files: number; states: StateSummary[] }[];
}

/** Operators, states, their described schemas, entry counts and sizes: from the metadata, no data read. */
export function describeSavepoint(savepoint: Savepoint): SavepointSummary {
  const { metadata } = savepoint;
  return {
    dir: savepoint.dir,
    jobName: metadata.jobName,
    maxParallelism: metadata.maxParallelism,
    keyGroupRanges: keyGroupRangesOf(metadata),
    partial: !isFullRange(keyGroupRangesOf(metadata), metadata.maxParallelism),
    ...(metadata.position ? { position: Buffer.from(metadata.position).toString('hex') } : {}),
    createdAt: new Date(metadata.createdAt).toISOString(),
    files: metadata.files.length,
    bytes: metadata.files.reduce((n, f) => n + f.size, 0),
    entries: metadata.files.reduce((n, f) => n + f.entries, 0),
    operators: metadata.operators.map((op) => ({
      uid: op.uid,
      key: op.key.describe(),
      ...(op.namespace ? { namespace: op.namespace.describe() } : {}),
      files: savepoint.files(op.uid).length,
      states: op.states.map((s) => ({
        name: s.name,
        type: s.type,
        ...(s.mapKey ? { mapKey: s.mapKey.describe() } : {}),
        versions: s.versions.map((v) => ({ id: v.id, kind: v.snapshot.kind, package: v.snapshot.packageName, schema: v.snapshot.describe() })),
        ...savepoint.stateTotals(op.uid, s.name),
      })),
    })),
  };
}

export interface StateEntry {
  key: unknown;
  namespace: unknown;
  /** Map state only. */
  mapKey?: unknown;
  value: unknown;
  keyGroup: number;
  /** The schema version the entry was stored with. */
  version: number;
}

export interface ReadStateOptions {
  /** Read through this job's declaration (migrated on the fly) instead of the stored snapshots. */
  job?: JobDeclaration;
  limit?: number;
}

/**
 * A keyed state's entries, decoded with the stored snapshots (each entry by its own version), or
 * through a new job's declaration exactly as a restore would read them.
 */
export async function* readState(savepoint: Savepoint, uid: string, state: string, options: ReadStateOptions = {}): AsyncGenerator<StateEntry> {
  const op = savepoint.operator(uid);
  if (!op) throw new TypeError(`savepoint has no operator "${uid}"; it has ${savepoint.operators.map((o) => `"${o.uid}"`).join(', ') || 'none'}`);
  const meta = op.states.find((s) => s.name === state);
  if (!meta) throw new TypeError(`operator "${uid}" has no state "${state}"; it has ${op.states.map((s) => `"${s.name}"`).join(', ') || 'none'}`);
  const limit = options.limit ?? Infinity;
  let count = 0;
  if (options.job) {
    // Reading is no restore: another job name or a partial savepoint do not matter here.
    const plan = planRestore(savepoint.metadata, options.job, { allowNonRestoredState: true, allowJobNameChange: true, allowPartialSavepoint: true });
    if (plan.error) throw plan.error;
    const opPlan = plan.operators.find((o) => (o.previousUid ?? o.uid) === uid && o.status === 'matched');
    if (!opPlan) throw new TypeError(`the job declares no operator "${uid}"`);
    const decode = entryDecoder(opPlan);
    for await (const raw of savepoint.entries(uid, { state })) {
      if (count++ >= limit) return;
      const e = decode(raw);
      if (!e) throw new TypeError(`the job declares no state "${state}" in operator "${uid}"`);
      yield { key: e.key, namespace: e.namespace, ...(meta.type === 'map' ? { mapKey: e.mapKey } : {}), value: e.value, keyGroup: raw.keyGroup, version: raw.version };
    }
    return;
  }
  const keyReader = op.key.restoreSerializer();
  const nsReader = op.namespace?.restoreSerializer();
  const mapKeyReader = meta.mapKey?.restoreSerializer();
  const readers = new Map(meta.versions.map((v) => [v.id, v.snapshot.restoreSerializer()]));
  const read = (reader: { deserialize(i: DataInput): unknown }, bytes: Uint8Array) => reader.deserialize(new DataInput(bytes));
  for await (const raw of savepoint.entries(uid, { state })) {
    if (count++ >= limit) return;
    const reader = readers.get(raw.version);
    if (!reader) throw new TypeError(`an entry of "${uid}"/"${state}" names schema version ${raw.version}, which the metadata does not list`);
    yield {
      key: read(keyReader, raw.key),
      namespace: nsReader ? read(nsReader, raw.namespace) : undefined,
      ...(mapKeyReader ? { mapKey: read(mapKeyReader, raw.mapKey) } : {}),
      value: read(reader, raw.value),
      keyGroup: raw.keyGroup,
      version: raw.version,
    };
  }
}
