/**
 * A worker thread of `stateshift migrate --workers n`. It is started before the main thread has
 * loaded the job, so that its own start overlaps the main thread's: it loads the job and prepares
 * the rewrite, then waits for its part (or is ended if the main thread refuses the upgrade).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { KeyGroupRange, StorageOptions } from '@stateshift/core';
import { openSavepoint, prepareRewrite, rewritePart, storageFor, type DataFileMetadata } from '@stateshift/savepoint';
import { loadAdapters } from './adapters.js';
import { InterruptedError } from './errors.js';
import { everyTenthSecond } from './io.js';
import { loadJob } from './load-job.js';

export interface WorkerTask {
  src: string;
  out: string;
  jobModule: string;
  allowNonRestoredState: boolean;
  allowJobNameChange: boolean;
  /** How `s3://` locations are reached (from the --s3-* flags). */
  storage: StorageOptions;
  /** Set to 1 by the main thread on Ctrl-C: the part stops at its next progress report and removes what it wrote. */
  stop: Int32Array;
}

/** Sent by the main thread once it has decided the upgrade: the key groups to rewrite, and a name for its files. */
export interface WorkerPart {
  range: KeyGroupRange;
  label: string;
}

/** An error as it crosses to the main thread: its name, message, stack and own fields (code, file, offset, ...). */
export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, string | number | boolean>;
}

export type WorkerReply = { type: 'progress'; done: number } | { type: 'done'; files: DataFileMetadata[] } | { type: 'error'; error: WorkerError };

function toWorkerError(error: Error): WorkerError {
  const fields: WorkerError['fields'] = {};
  for (const [k, v] of Object.entries(error)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  return { name: error.name, message: error.message, stack: error.stack, fields };
}

if (parentPort && workerData) {
  const task = workerData as WorkerTask;
  const port = parentPort;
  const fail = (error: Error) => port.postMessage({ type: 'error', error: toWorkerError(error) } satisfies WorkerReply);
  const preparing = (async () => {
    // Job declarations hold functions, so each worker loads the module itself.
    const job = await loadJob(task.jobModule);
    // As openForCli, without importing what reads LSM directories (classic-level, backend-lsm):
    // the source was opened as a savepoint by the main thread, and the imports cost each worker.
    let savepoint = await openSavepoint(task.src, task.storage);
    if (await loadAdapters(savepoint.metadata)) savepoint = await openSavepoint(task.src, task.storage);
    return prepareRewrite(savepoint, { job, allowNonRestoredState: task.allowNonRestoredState, allowJobNameChange: task.allowJobNameChange });
  })();
  preparing.catch(() => undefined); // reported once its part arrives
  port.once('message', ({ range, label }: WorkerPart) => {
    (async () => {
      const prepared = await preparing;
      // A message per thousand entries would cost the worker time.
      const report = everyTenthSecond((done) => port.postMessage({ type: 'progress', done } satisfies WorkerReply));
      const progress = (done: number) => {
        if (Atomics.load(task.stop, 0)) throw new InterruptedError('interrupted');
        report(done);
      };
      const files = await rewritePart(prepared, storageFor(task.out, task.storage), range, label, progress);
      port.postMessage({ type: 'done', files } satisfies WorkerReply);
    })().catch(fail);
  });
}
