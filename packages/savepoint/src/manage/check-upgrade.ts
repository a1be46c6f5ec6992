/**
 * The upgrade dry-run: the restore rules applied to a savepoint and a job without a backend, with
 * what a restore would migrate. It is `planRestore`, so it decides exactly what a restore decides.
 */
import type { JobDeclaration, SchemaChange } from '@stateshift/core';
import type { Savepoint } from '../reader.js';
import { planRestore, type OperatorStatus, type StateVerdict } from '../restore-plan.js';

export interface StateCheck {
  operator: string;
  state: string;
  verdict: StateVerdict;
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
  operators: { uid: string; status: OperatorStatus; rekey: boolean }[];
  states: StateCheck[];
}

export function checkUpgrade(savepoint: Savepoint, job: JobDeclaration, options: { allowNonRestoredState?: boolean } = {}): UpgradeCheck {
  const plan = planRestore(savepoint.metadata, job, options);
  const states: StateCheck[] = plan.operators.flatMap((op) =>
    op.states.map((s) => {
      const totals = s.status === 'new' ? { entries: 0, bytes: 0 } : savepoint.stateTotals(op.uid, s.state);
      const rewrites = s.migrate || s.rekeyMapKeys || op.rekey;
      return {
        operator: op.uid,
        state: s.state,
        verdict: s.verdict,
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
    operators: plan.operators.map((op) => ({ uid: op.uid, status: op.status, rekey: op.rekey })),
    states,
  };
}
