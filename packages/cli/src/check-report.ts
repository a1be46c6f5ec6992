/** The dry-run of a savepoint, or of an LSM database directory upgraded in place. */
import { parseKeyGroupRange, type JobDeclaration, type StorageOptions } from '@stateshift/core';
import { checkUpgrade, planRestore, type UpgradeCheck } from '@stateshift/savepoint';
import { isLsmDirectory, openForCli, openLsmLayout } from './open.js';
import { redactInReport } from './text.js';

export interface CheckOptions {
  allowNonRestoredState?: boolean;
  allowJobNameChange?: boolean;
  allowPartialSavepoint?: boolean;
  /** The key groups of the instance that would restore ("a-b"); default all. */
  keyGroups?: string;
}

export type CheckReport = UpgradeCheck & { source: 'savepoint' | 'lsm-database' };

export async function checkReport(dir: string, job: JobDeclaration, check: CheckOptions, storage: StorageOptions = {}): Promise<CheckReport> {
  const { keyGroups, ...rest } = check;
  const options = { ...rest, ...(keyGroups ? { keyGroupRange: parseKeyGroupRange(keyGroups, job.maxParallelism) } : {}) };
  if (!(await isLsmDirectory(dir))) return redactInReport({ source: 'savepoint', ...checkUpgrade(await openForCli(dir, storage), job, options) });
  const layout = await openLsmLayout(dir);
  const report: CheckReport = { source: 'lsm-database', ...checkUpgrade(layout, job, options) };
  // Reopening a database in place cannot re-key (as openLsmBackend refuses it).
  const rekeyed = planRestore(layout.metadata, job, options).operators.filter((op) => op.rekey || op.states.some((s) => s.rekeyMapKeys));
  if (report.ok && rekeyed.length) {
    report.ok = false;
    report.error = {
      name: 'RestoreError',
      message:
        `the key, namespace or map-key serializer of ${rekeyed.map((op) => `"${op.uid}"`).join(', ')} changed, so entries must be re-keyed, which an LSM database cannot do in place: ` +
        'take a savepoint with the previous version and restore it into a new directory',
    };
  }
  return redactInReport(report);
}
