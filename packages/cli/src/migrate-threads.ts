/**
 * The worker threads of `stateshift migrate --workers n`, seen from the main thread. Nothing here
 * loads the savepoint modules, so the threads start before the main thread loads them.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { DataFileMetadata } from '@stateshift/savepoint';
import type { WorkerError, WorkerPart, WorkerReply, WorkerTask } from './migrate-worker.js';

/** The worker's compiled module (when this file runs from sources under a test runner, the built one). */
function workerUrl(): URL {
  const beside = new URL('./migrate-worker.js', import.meta.url);
  return existsSync(beside) ? beside : new URL('../dist/migrate-worker.js', import.meta.url);
}

/** A worker's error as the class core exports under its name (so `instanceof` and `code` hold), else a plain Error. */
function reviveError(core: typeof import('@stateshift/core'), { name, message, stack, fields }: WorkerError): Error {
  const type = (core as Record<string, unknown>)[name];
  const prototype = typeof type === 'function' && type.prototype instanceof core.StateshiftError ? type.prototype : Error.prototype;
  return Object.assign(Object.create(prototype) as Error, fields, { name, message, stack });
}

interface Helper {
  /** Hands the worker its part; resolves with the files it wrote. */
  run(part: WorkerPart): Promise<DataFileMetadata[]>;
  /** Ends a worker that was never handed a part (it has written nothing). */
  stop(): Promise<unknown>;
}

/** Starts a worker thread, which loads the job and prepares while this thread does the same. */
export function startHelper(task: WorkerTask, onProgress: (done: number) => void): Helper {
  const worker = new Worker(workerUrl(), { workerData: task });
  const result = new Promise<DataFileMetadata[]>((resolve, reject) => {
    let failed = false;
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'progress') onProgress(m.done);
      else if (m.type === 'done') resolve(m.files);
      else {
        // The worker ends once it has sent its error: that exit must not reject first.
        failed = true;
        import('@stateshift/core').then((core) => reject(reviveError(core, m.error)), reject);
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => failed || reject(new Error(`migration worker exited with code ${code} before it finished`)));
  });
  result.catch(() => undefined); // awaited only once the worker has a part
  return {
    run(part) {
      worker.postMessage(part);
      return result;
    },
    stop: () => worker.terminate(),
  };
}

