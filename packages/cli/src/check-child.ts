/**
 * The child process of `stateshift check --job`: loads the job module, says so, runs the dry-run
 * (sending progress as a sample or deep check reads) and sends the report. The parent counts a
 * check as done only when the report arrives, so a module that exits, hangs or never finishes
 * loading cannot pass for a safe upgrade.
 */
import { StateshiftError, type StorageOptions } from '@stateshift/core';
import { errorMessage } from './describe-error.js';
import { everyTenthSecond } from './io.js';
import { loadJob } from './load-job.js';
import { checkReport, type CheckOptions, type CheckReport } from './check-report.js';

/** What the child sends: loaded, progress, then a report or an error. */
export type CheckMessage =
  | { type: 'loaded' }
  | { type: 'progress'; read: number; total: number }
  | { type: 'report'; report: CheckReport }
  | { type: 'error'; name: string; message: string; code?: string };

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
    process.send({ type: 'loaded' } satisfies CheckMessage);
    const send = everyTenthSecond((read, total) => process.send!({ type: 'progress', read, total } satisfies CheckMessage));
    const progress = ({ read, total }: { read: number; total: number }) => send(read, total);
    reply({ type: 'report', report: await checkReport(task.dir, job, task.options, task.storage, previousJob, progress) } satisfies CheckMessage);
  } catch (error) {
    // Sent already made safe (the parent does not know this process's savepoint).
    const code = error instanceof StateshiftError ? { code: error.code } : {};
    reply({ type: 'error', name: (error as Error)?.name ?? 'Error', message: errorMessage(error), ...code } satisfies CheckMessage);
  }
}
