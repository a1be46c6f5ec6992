/**
 * The upgrade dry-run: the restore rules applied to a savepoint and a job without a backend, with
 * what a restore would migrate. It is `planRestore`, so it decides exactly what a restore decides.
 *
 * By default it is schema-only: it reads the metadata, not the data. With `sample` or `deep` it
 * also reads stored entries (the first `sample` of each state, or all) as a restore would: through
 * the new readers and converters (entryDecoder), written again with the new serializers, and
 * looking for key collisions; so after a deep check, safe means a restore will succeed. With
 * `rollback` it checks the other direction: whether the previous version of the job can read what
 * the new one writes (Confluent's FORWARD; with the upgrade itself, FULL).
 */
import { DataOutput, EncodeError, formatKey, StateshiftError, type JobDeclaration, type KeyGroupRange, type SchemaChange } from '@stateshift/core';
import { CollisionMerger, OperatorCollisions, type RekeyedBytes } from '../collisions.js';
import { describeKeyBytes, entryDecoder, type DecodedEntry } from '../decode-entries.js';
import type { RawEntry } from '../data-file.js';
import { isFullRange } from '../key-group-ranges.js';
import { layoutOfJob } from '../layout.js';
import type { Savepoint } from '../reader.js';
import {
  planRestore,
  type DropReason,
  type OperatorPlan,
  type RestoreOptions,
  type RestorePlan,
  type StatePlan,
  type StateVerdict,
} from '../restore-plan.js';
import { checkSortBudget } from './entry-sorter.js';
import { jobOfSavepoint } from './rescale.js';
import { bytesOf } from './rewrite.js';

export interface CheckUpgradeOptions extends RestoreOptions {
  /** Also read the first `sample` stored entries of each state (list elements and map entries count one each). */
  sample?: number;
  /** Also read every stored entry. */
  deep?: boolean;
  /**
   * Called as a sample or deep check reads, every thousand entries and at the end: entries read so
   * far, and about how many it will read (the stored entries of the states it reads, or the sample).
   */
  onProgress?(progress: { read: number; total: number }): void;
  /** Also check that the previous version of the job can read a savepoint the new one writes. */
  rollback?: boolean;
  /**
   * The previous version's declaration for `rollback` (with its converters, dropStates, ...);
   * default: a job of the serializers the savepoint stores (jobOfSavepoint).
   */
  previousJob?: JobDeclaration;
  /**
   * Memory for finding colliding keys of a re-keyed operator in a sample or deep check: records
   * past it are sorted in runs spilled to a temporary directory (default 32 MiB).
   */
  sortBufferBytes?: number;
}

/** What the check read: only the metadata, the first entries of each state, or every entry. */
export type CheckScope = 'schema' | 'sample' | 'deep';

/** The most failures listed per state. */
export const MAX_LISTED_FAILURES = 5;

export interface EntryFailure {
  /** The stored key (and namespace, map key) as text; for a merge that failed, the new key. */
  key: string;
  namespace?: string;
  mapKey?: string;
  error: { name: string; message: string };
}

/** Stored entries of one state read through the new job (sample or deep checks). */
export interface EntriesCheck {
  read: number;
  /** Read, converted and written again with the new serializers, without collision. */
  passed: number;
  /** Collided with an earlier entry and would be merged by the state's mergeOnCollision. */
  merged: number;
  failed: number;
  /** The first failures (up to MAX_LISTED_FAILURES), with their keys. */
  failures: EntryFailure[];
}

/**
 * Rollback of one state of the new job: FORWARD, the previous version reads what the new one
 * writes; FULL, that and the upgrade itself (BACKWARD).
 */
export interface StateRollback {
  forward: boolean;
  full: boolean;
  /** The previous version's verdict on the new job's serializers (dropped: it does not declare the state). */
  verdict: StateVerdict;
  dropReason?: DropReason;
  problems: { role: string; path: string; message: string }[];
}

export interface RollbackCheck {
  /** Whether a restore into the previous version of a savepoint the new job writes would go ahead. */
  ok: boolean;
  error?: { name: string; message: string };
  /** Where the previous version came from: its declaration, or the serializers the savepoint stores. */
  previousJob: 'declaration' | 'savepoint';
}

/**
 * matched: same uid; renamed: restored from a declared previous uid; missing: only in the
 * savepoint and not declared dropped (a restore fails unless allowNonRestoredState); dropped: left
 * behind by declaration or allowNonRestoredState; new: only in the job.
 */
export type OperatorCheckStatus = 'matched' | 'renamed' | 'missing' | 'dropped' | 'new';

export interface OperatorCheck {
  uid: string;
  status: OperatorCheckStatus;
  /** Renamed: the uid in the savepoint. */
  previousUid?: string;
  dropReason?: DropReason;
  rekey: boolean;
}

export interface StateCheck {
  operator: string;
  state: string;
  verdict: StateVerdict;
  /** Dropped (and undeclared) states: why they are left behind. */
  dropReason?: DropReason;
  converterUsed: boolean;
  /** Entries and value bytes a restore rewrites (migrations, converters, re-keying); 0 for an incompatible state. */
  entriesToMigrate: number;
  bytesToMigrate: number;
  changes: SchemaChange[];
  problems: { role: string; path: string; message: string }[];
  /** Sample and deep checks: what reading the stored entries found. */
  entries?: EntriesCheck;
  /** Rollback checks: states of the new job. */
  rollback?: StateRollback;
}

export interface UpgradeCheck {
  /** Whether a restore would go ahead: by the schemas, and by the entries read (sample, deep). */
  ok: boolean;
  /** What a restore would fail with, as its error class name and message. */
  error?: { name: string; message: string };
  /** schema: only the metadata was read, so a restore may still fail on a stored value. */
  scope: CheckScope;
  /** Sample checks: the entries read per state. */
  sample?: number;
  /** Rollback checks: whether the previous version can read what the new job writes. */
  rollback?: RollbackCheck;
  jobName: string;
  savepointJobName: string;
  maxParallelism: { savepoint: number; job: number };
  /** The key groups the savepoint holds (fewer than all: partial), and those the instance lacks. */
  keyGroups: { savepoint: KeyGroupRange[]; partial: boolean; missing: KeyGroupRange[] };
  operators: OperatorCheck[];
  states: StateCheck[];
}

function operatorStatus(op: OperatorPlan): OperatorCheckStatus {
  if (op.status === 'onlyInJob') return 'new';
  if (op.status === 'onlyInSavepoint') return op.dropReason === 'undeclared' ? 'missing' : 'dropped';
  return op.previousUid ? 'renamed' : 'matched';
}

/**
 * The dry-run of restoring `savepoint` into `job`. Schema-only unless `sample` or `deep` is given
 * (then it reads entries); `rollback` adds the previous version's view.
 */
export async function checkUpgrade(savepoint: Savepoint, job: JobDeclaration, options: CheckUpgradeOptions = {}): Promise<UpgradeCheck> {
  const { sample, deep, rollback, previousJob, onProgress, sortBufferBytes, ...restore } = options;
  if (sample !== undefined && !(Number.isSafeInteger(sample) && sample > 0)) throw new TypeError(`checkUpgrade: sample must be a whole number of entries above 0, got ${String(sample)}`);
  if (sortBufferBytes !== undefined) checkSortBudget(sortBufferBytes);
  const plan = planRestore(savepoint.metadata, job, restore);
  const scope: CheckScope = deep ? 'deep' : sample !== undefined ? 'sample' : 'schema';
  const read = scope === 'schema' ? undefined : await readEntries(savepoint, plan, deep ? undefined : sample, restore.keyGroupRange, onProgress, sortBufferBytes);
  const back = rollback || previousJob ? rollbackPlan(savepoint, job, previousJob, restore) : undefined;
  const states: StateCheck[] = plan.operators.flatMap((op) =>
    op.states.map((s) => {
      const totals = s.status === 'new' ? { entries: 0, bytes: 0 } : savepoint.stateTotals(op.previousUid ?? op.uid, s.state);
      // An incompatible state is not restored, so none of its entries is rewritten.
      const rewrites = s.verdict !== 'incompatible' && (s.migrate || s.rekeyMapKeys || op.rekey);
      const entries = read?.checks.get(s);
      const stateRollback = back && op.status !== 'onlyInSavepoint' ? rollbackOf(back, op, s) : undefined;
      return {
        operator: op.uid,
        state: s.state,
        verdict: s.verdict,
        ...(s.dropReason ? { dropReason: s.dropReason } : {}),
        converterUsed: s.converterUsed,
        entriesToMigrate: rewrites ? totals.entries : 0,
        bytesToMigrate: rewrites ? totals.bytes : 0,
        changes: [
          ...(op.key?.changes ?? []).map((c) => ({ ...c, path: `key${c.path ? `.${c.path}` : ''}` })),
          ...(op.namespace?.changes ?? []).map((c) => ({ ...c, path: `namespace${c.path ? `.${c.path}` : ''}` })),
          ...s.values.flatMap((v) => v.changes),
          ...(s.mapKey?.changes ?? []),
        ],
        problems: s.problems,
        ...(entries ? { entries } : {}),
        ...(stateRollback ? { rollback: stateRollback } : {}),
      };
    }),
  );
  const error = plan.error ? { name: plan.error.name, message: plan.error.message } : read?.firstError;
  return {
    ok: !error,
    ...(error ? { error } : {}),
    scope,
    ...(scope === 'sample' ? { sample } : {}),
    ...(back
      ? { rollback: { ok: back.plan.ok, ...(back.plan.error ? { error: { name: back.plan.error.name, message: back.plan.error.message } } : {}), previousJob: back.source } }
      : {}),
    jobName: plan.jobName,
    savepointJobName: plan.savepointJobName,
    maxParallelism: { savepoint: plan.savepointMaxParallelism, job: plan.maxParallelism },
    keyGroups: {
      savepoint: plan.savepointKeyGroups,
      partial: !isFullRange(plan.savepointKeyGroups, plan.savepointMaxParallelism),
      missing: plan.missingKeyGroups,
    },
    operators: plan.operators.map((op) => ({
      uid: op.uid,
      status: operatorStatus(op),
      ...(op.previousUid ? { previousUid: op.previousUid } : {}),
      ...(op.dropReason ? { dropReason: op.dropReason } : {}),
      rekey: op.rekey,
    })),
    states,
  };
}

/**
 * Reads the stored entries of every state a restore would read (all, or the first `limit` of each)
 * as a restore does: decoded through the plan's readers and converters, written with the plan's
 * writers, collisions looked for among the re-keyed ones; only the key groups of the instance
 * (`keyGroupRange`) unless keys are re-keyed (then they may come from any).
 */
async function readEntries(
  savepoint: Savepoint,
  plan: RestorePlan,
  limit: number | undefined,
  keyGroupRange: KeyGroupRange | undefined,
  onProgress: CheckUpgradeOptions['onProgress'],
  sortBufferBytes: number | undefined,
): Promise<{ checks: Map<StatePlan, EntriesCheck>; firstError?: EntryFailure['error'] }> {
  const checks = new Map<StatePlan, EntriesCheck>();
  // An unreadable key or namespace makes every state incompatible already: nothing to read.
  const readable = (op: OperatorPlan) => op.status === 'matched' && !!op.key?.reader && !(op.namespace && !op.namespace.reader);
  // The states read: restored, and not incompatible already.
  const toRead = (op: OperatorPlan) => op.states.filter((s) => s.status === 'restored' && s.verdict !== 'incompatible');
  let read = 0;
  let total = 0;
  for (const op of plan.operators.filter(readable)) {
    for (const s of toRead(op)) {
      const stored = savepoint.stateTotals(op.previousUid ?? op.uid, s.metadata!.name).entries;
      total += limit === undefined ? stored : Math.min(limit, stored);
    }
  }
  let firstError: EntryFailure['error'] | undefined;
  const out = new DataOutput(256);
  for (const op of plan.operators.filter(readable)) {
    const states = new Map<number, StatePlan>();
    for (const s of toRead(op)) {
      states.set(s.savepointIndex!, s);
      checks.set(s, { read: 0, passed: 0, merged: 0, failed: 0, failures: [] });
    }
    if (!states.size) continue;
    const decode = entryDecoder(op);
    const collisions = new OperatorCollisions(op, sortBufferBytes);
    const describe = describer(op);
    const fail = (state: StatePlan, where: Omit<EntryFailure, 'error'>, error: Error, entries = 1) => {
      const check = checks.get(state)!;
      check.failed += entries;
      const failure = { ...where, error: { name: error.name, message: error.message } };
      // A list's elements fail one by one for the same reason: listed once.
      const listed = check.failures.some((f) => f.key === failure.key && f.namespace === failure.namespace && f.error.message === failure.error.message);
      if (!listed && check.failures.length < MAX_LISTED_FAILURES) check.failures.push(failure);
      firstError ??= failure.error;
    };
    // Re-keyed states that merge collisions: held, then merged as a restore merges them.
    const mergers = new Map<StatePlan, CollisionMerger>();
    for (const s of states.values()) if (collisions.tracks(s) && s.descriptor!.options.mergeOnCollision) mergers.set(s, new CollisionMerger(op.uid, s));
    /** Reads one entry; returns a promise when its collision record spilled to disk (await it). */
    const visit = (state: StatePlan, raw: RawEntry): Promise<void> | undefined => {
      const check = checks.get(state)!;
      check.read++;
      if (onProgress && ++read % 1000 === 0) onProgress({ read, total });
      try {
        const entry = decode(raw)!;
        const next = writeEntry(op, state, raw, entry, out);
        const merger = mergers.get(state);
        if (merger) {
          merger.add(raw, entry, next);
          return undefined;
        }
        // Passed unless a collision is found among the records, after the pass.
        check.passed++;
        return collisions.tracks(state) ? collisions.add(raw, next) : undefined;
      } catch (error) {
        if (!(error instanceof StateshiftError)) throw error;
        fail(state, describe(state, raw), error);
      }
    };
    const uid = op.previousUid ?? op.uid;
    // The instance's key groups, as a restore reads them; re-keyed entries may come from any.
    const range = op.rekey ? undefined : keyGroupRange;
    if (limit === undefined) {
      // Every entry, in one pass over the operator's files.
      for await (const block of savepoint.blocks(uid, { range })) {
        for (const raw of block) {
          const state = states.get(raw.state);
          const recording = state && visit(state, raw);
          if (recording) await recording;
        }
      }
    } else {
      // A sample: each state on its own, reading stops after its first `limit` entries.
      for (const state of states.values()) {
        sampling: for await (const block of savepoint.blocks(uid, { range, state: state.metadata!.name })) {
          for (const raw of block) {
            if (checks.get(state)!.read >= limit) break sampling;
            const recording = visit(state, raw);
            if (recording) await recording;
          }
        }
      }
    }
    try {
      for await (const found of collisions.collisions()) {
        checks.get(found.state)!.passed--;
        fail(found.state, describe(found.state, found.old), found.error);
      }
    } finally {
      await collisions.dispose();
    }
    for (const [state, merger] of mergers) {
      const check = checks.get(state)!;
      for (const row of merger.rows()) {
        const entries = row.origins.reduce((n, o) => n + o.length, 0);
        try {
          merger.stored(row);
          check.passed += row.origins[0].length;
          check.merged += entries - row.origins[0].length;
        } catch (error) {
          if (!(error instanceof StateshiftError)) throw error;
          fail(state, { key: formatKey(row.entry.key), ...(state.type === 'map' ? { mapKey: formatKey(row.entry.mapKey) } : {}) }, error, entries);
        }
      }
    }
  }
  onProgress?.({ read, total });
  return { checks, ...(firstError ? { firstError } : {}) };
}

/** An entry's new key bytes, its value written with the new serializer as a restore does; an error names the key. */
function writeEntry(op: OperatorPlan, state: StatePlan, raw: RawEntry, entry: DecodedEntry, out: DataOutput): RekeyedBytes {
  try {
    const next = {
      key: op.rekey ? bytesOf(op.keyWriter!, entry.key, out) : raw.key,
      namespace: op.rekey && op.namespaceWriter ? bytesOf(op.namespaceWriter, entry.namespace, out) : raw.namespace,
      mapKey: state.type === 'map' ? bytesOf(state.mapKeyWriter!, entry.mapKey, out) : raw.mapKey,
    };
    bytesOf(state.writer!, entry.value, out);
    return next;
  } catch (error) {
    if (!(error instanceof EncodeError)) throw error;
    throw new EncodeError(`operator "${op.uid}" state "${state.state}" key ${formatKey(entry.key)}: the new serializer cannot write the value read (${error.message})`, '', {
      cause: error,
    });
  }
}

/** The stored key, namespace and map key of an entry as text, by the savepoint's own serializers. */
function describer(op: OperatorPlan): (state: StatePlan, raw: Pick<RawEntry, 'key' | 'namespace' | 'mapKey'>) => Omit<EntryFailure, 'error'> {
  const key = op.metadata!.key.restoreSerializer();
  const namespace = op.metadata!.namespace?.restoreSerializer();
  return (state, raw) => ({
    key: describeKeyBytes(key, raw.key),
    ...(namespace ? { namespace: describeKeyBytes(namespace, raw.namespace) } : {}),
    ...(state.type === 'map' ? { mapKey: describeKeyBytes(state.metadata!.mapKey!.restoreSerializer(), raw.mapKey) } : {}),
  });
}

interface RollbackPlan {
  plan: RestorePlan;
  source: RollbackCheck['previousJob'];
  /** New uid to the uid the previous version declares. */
  previousUid: Map<string, string>;
}

/**
 * A restore into the previous version of the savepoint the new job would write (its declared
 * serializers, layoutOfJob): operators renamed by the new job go back to the uid the previous
 * version declares.
 */
function rollbackPlan(savepoint: Savepoint, job: JobDeclaration, previousJob: JobDeclaration | undefined, options: RestoreOptions): RollbackPlan {
  const previous = previousJob ?? jobOfSavepoint(savepoint.metadata);
  const layout = layoutOfJob(job);
  const previousUid = new Map<string, string>();
  for (const op of job.operators) {
    const uid = previous.operator(op.uid) ? op.uid : ((op.previousUids ?? []).find((u) => previous.operator(u)) ?? op.uid);
    previousUid.set(op.uid, uid);
  }
  const metadata = { ...layout, createdAt: 0, files: [], operators: layout.operators.map((op) => ({ ...op, uid: previousUid.get(op.uid)! })) };
  const plan = planRestore(metadata, previous, {
    allowNonRestoredState: options.allowNonRestoredState,
    allowJobNameChange: options.allowJobNameChange,
    now: options.now,
  });
  return { plan, source: previousJob ? 'declaration' : 'savepoint', previousUid };
}

/** The rollback verdict of a state of the new job (FULL needs the upgrade's own verdict too). */
function rollbackOf(back: RollbackPlan, op: OperatorPlan, state: StatePlan): StateRollback {
  if (state.status === 'dropped') {
    // Not written by the new job: the previous version restores without it, empty.
    const message = 'the new job does not write this state, so after a rollback the previous version starts it empty';
    return { forward: true, full: state.dropReason !== 'undeclared', verdict: 'new', problems: [{ role: 'state', path: '', message }] };
  }
  const uid = back.previousUid.get(op.uid) ?? op.uid;
  const previousOp = back.plan.operators.find((o) => o.uid === uid || o.previousUid === uid);
  const previous = previousOp?.states.find((s) => s.state === state.state && s.status !== 'new');
  const verdict = previous?.verdict ?? 'dropped';
  const dropReason = previous?.dropReason ?? (previous ? undefined : back.plan.allowNonRestoredState ? 'allowNonRestoredState' : 'undeclared');
  const forward = verdict !== 'incompatible' && dropReason !== 'undeclared';
  const backward = state.verdict !== 'incompatible' && state.dropReason !== 'undeclared';
  return {
    forward,
    full: forward && backward,
    verdict,
    ...(dropReason ? { dropReason } : {}),
    problems: previous?.problems ?? [],
  };
}
