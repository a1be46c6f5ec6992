/** The dry-run of a savepoint, or of an LSM database directory upgraded in place. */
import { parseKeyGroupRange, type JobDeclaration, type StorageOptions } from '@stateshift/core';
import { checkUpgrade, planRestore, type CheckUpgradeOptions, type UpgradeCheck } from '@stateshift/savepoint';
import { isLsmDirectory, openForCli, openLsmLayout } from './open.js';
import { UsageError } from './errors.js';
import { redactInReport, safe } from './text.js';

export interface CheckOptions {
  allowNonRestoredState?: boolean;
  allowJobNameChange?: boolean;
  allowPartialSavepoint?: boolean;
  /** The key groups of the instance that would restore ("a-b"); default all. */
  keyGroups?: string;
  /** Read the first n stored entries of each state through the new job. */
  sample?: number;
  /** Read every stored entry through the new job. */
  deep?: boolean;
  /** Check that the previous version reads what the new job writes. */
  rollback?: boolean;
}

export type CheckReport = UpgradeCheck & { source: 'savepoint' | 'lsm-database' };

/**
 * `storage`: how an `s3://` dir is reached; `previousJob`: the previous version's declaration for
 * the rollback check (default: the savepoint's own serializers).
 */
export async function checkReport(
  dir: string,
  job: JobDeclaration,
  check: CheckOptions,
  storage: StorageOptions = {},
  previousJob?: JobDeclaration,
  onProgress?: CheckUpgradeOptions['onProgress'],
): Promise<CheckReport> {
  const { keyGroups, ...rest } = check;
  const options = {
    ...rest,
    ...(previousJob ? { previousJob } : {}),
    ...(keyGroups ? { keyGroupRange: parseKeyGroupRange(keyGroups, job.maxParallelism) } : {}),
    ...(onProgress ? { onProgress } : {}),
  };
  const lsm = await isLsmDirectory(dir);
  if (lsm && (check.sample !== undefined || check.deep)) {
    throw new UsageError(
      `${safe(dir)} is an LSM database directory: --sample and --deep read a savepoint's entries. Take a savepoint of the database (backend.savepoint(dir)) and check that, ` +
        'or check the database without them (schema-only)',
    );
  }
  if (!lsm) return redactInReport({ source: 'savepoint', ...(await checkUpgrade(await openForCli(dir, storage), job, options)) });
  const layout = await openLsmLayout(dir);
  const report: CheckReport = { source: 'lsm-database', ...(await checkUpgrade(layout, job, options)) };
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
