/**
 * The child process of `stateshift check --job`: loads the job module, runs the dry-run and sends
 * the report. The parent counts a check as done only when the report arrives, so a module that
 * exits, hangs or never finishes loading cannot pass for a safe upgrade.
 */
import type { StorageOptions } from '@stateshift/core';
import { describeError } from './errors.js';
import { loadJob } from './load-job.js';
import { checkReport, type CheckOptions } from './check-report.js';

export interface CheckTask {
  dir: string;
  jobModule: string;
  /** The previous version's job module, for --rollback. */
  previousJobModule?: string;
  options: CheckOptions;
  /** How an `s3://` dir is reached (from the --s3-* flags). */
  storage?: StorageOptions;
}

if (process.send && process.argv[2]) {
  const task = JSON.parse(process.argv[2]) as CheckTask;
  const reply = (message: unknown) => process.send!(message, () => process.disconnect());
  try {
    const job = await loadJob(task.jobModule);
    const previousJob = task.previousJobModule ? await loadJob(task.previousJobModule) : undefined;
    reply({ type: 'report', report: await checkReport(task.dir, job, task.options, task.storage, previousJob) });
  } catch (error) {
    // Sent already made safe (the parent's describeError does not know this process's savepoint).
    const name = (error as Error)?.name ?? 'Error';
    const text = describeError(error);
    reply({ type: 'error', name, message: text.startsWith(`${name}: `) ? text.slice(name.length + 2) : text });
  }
}
