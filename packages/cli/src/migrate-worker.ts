/** A worker thread of `stateshift migrate --workers n`: rewrites one key-group range. */
import { parentPort, workerData } from 'node:worker_threads';
import type { KeyGroupRange, StorageOptions } from '@stateshift/core';
import { prepareRewrite, rewritePart, storageFor, type DataFileMetadata } from '@stateshift/savepoint';
import { loadJob } from './load-job.js';
import { openForCli } from './open.js';

export interface WorkerTask {
  src: string;
  out: string;
  jobModule: string;
  range: KeyGroupRange;
  part: string;
  allowNonRestoredState: boolean;
  allowJobNameChange: boolean;
  /** How `s3://` locations are reached (from the --s3-* flags). */
  storage: StorageOptions;
}

export type WorkerReply = { type: 'progress'; done: number } | { type: 'done'; files: DataFileMetadata[] } | { type: 'error'; name: string; message: string };

if (parentPort && workerData) {
  const task = workerData as WorkerTask;
  const port = parentPort;
  (async () => {
    // Job declarations hold functions, so each worker loads the module itself.
    const job = await loadJob(task.jobModule);
    const prepared = prepareRewrite(await openForCli(task.src, task.storage), { job, allowNonRestoredState: task.allowNonRestoredState, allowJobNameChange: task.allowJobNameChange });
    const files = await rewritePart(prepared, storageFor(task.out, task.storage), task.range, task.part, (done) => port.postMessage({ type: 'progress', done } satisfies WorkerReply));
    port.postMessage({ type: 'done', files } satisfies WorkerReply);
  })().catch((error: Error) => port.postMessage({ type: 'error', name: error.name, message: error.message } satisfies WorkerReply));
}
