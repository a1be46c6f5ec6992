/**
 * The upgrade dry-run: the restore rules applied to a savepoint and a job without a backend, with
 * what a restore would migrate. It is `planRestore`, so it decides exactly what a restore decides.
 */
import type { JobDeclaration, KeyGroupRange, SchemaChange } from '@stateshift/core';
import { isFullRange } from '../key-group-ranges.js';
import type { Savepoint } from '../reader.js';
import { planRestore, type DropReason, type OperatorPlan, type RestoreOptions, type StateVerdict } from '../restore-plan.js';

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
  /** Entries and value bytes a restore rewrites (migrations, converters, re-keying). */
  entriesToMigrate: number;
  bytesToMigrate: number;
  changes: SchemaChange[];
  problems: { role: string; path: string; message: string }[];
}

export interface UpgradeCheck {
  ok: boolean;
  /** What a restore would fail with, as its error class name and message. */
  error?: { name: string; message: string };
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

export function checkUpgrade(savepoint: Savepoint, job: JobDeclaration, options: RestoreOptions = {}): UpgradeCheck {
  const plan = planRestore(savepoint.metadata, job, options);
  const states: StateCheck[] = plan.operators.flatMap((op) =>
    op.states.map((s) => {
      const totals = s.status === 'new' ? { entries: 0, bytes: 0 } : savepoint.stateTotals(op.previousUid ?? op.uid, s.state);
      const rewrites = s.migrate || s.rekeyMapKeys || op.rekey;
      return {
        operator: op.uid,
        state: s.state,
        verdict: s.verdict,
        ...(s.dropReason ? { dropReason: s.dropReason } : {}),
        converterUsed: s.converterUsed,
        entriesToMigrate: rewrites ? totals.entries : 0,
        bytesToMigrate: rewrites ? totals.bytes : 0,
        changes: [...(op.key?.changes ?? []).map((c) => ({ ...c, path: `key${c.path ? `.${c.path}` : ''}` })), ...s.values.flatMap((v) => v.changes), ...(s.mapKey?.changes ?? [])],
        problems: s.problems,
      };
    }),
  );
  return {
    ok: plan.ok,
    ...(plan.error ? { error: { name: plan.error.name, message: plan.error.message } } : {}),
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
