import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as core from '@stateshift/core';
import { parseKeyGroupRange, type KeyGroupRange, type StorageOptions } from '@stateshift/core';
import { formatRanges, isFullRange, outputKeyGroups, prepareRewrite, rewritePart, SavepointWriter, type DataFileMetadata } from '@stateshift/savepoint';
import { formatBytes, json, progressBar, type Io } from '../io.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { loadJob } from '../load-job.js';
import { absoluteLocation, checkOutside, removeUnfinished, withReplaceHint } from '../locations.js';
import { openForCli } from '../open.js';
import { safe } from '../text.js';
import { wholeNumber } from './dump.js';
import type { WorkerError, WorkerPart, WorkerReply, WorkerTask } from '../migrate-worker.js';

export const migrateHelp = `stateshift migrate <savepoint> --job <module> --out <dir> [--key-groups a-b] [--workers n]
    [--allow-non-restored-state] [--allow-job-name-change] [--replace] [--json]

Offline eager migration: writes a new savepoint at --out in which every entry is read as the job
module's declaration reads it (migrations, converters, re-keying, renames and drops the job
declares) and written with its serializers. A job with another maxParallelism rescales. The source
is never modified; --out must not exist or be empty, and not be inside the source; _metadata is
written last. --key-groups a-b writes only that range, as a partial savepoint that says so (split
the work across processes or machines, then join the parts with stateshift merge); --workers n
splits the range into n parts, one in this thread and the others in worker threads (more workers
than cores only adds overhead: a warning says so).
--replace first removes what a migrate that never committed left at --out (a process killed
midway: its _lock and data files), so that range is simply run again; a committed savepoint
(_metadata) is never removed.`;

export interface MigrateOptions {
  job?: string;
  out?: string;
  keyGroups?: string;
  workers?: string;
  allowNonRestoredState?: boolean;
  allowJobNameChange?: boolean;
  replace?: boolean;
  json?: boolean;
  storage?: StorageOptions;
}

function splitRange(range: KeyGroupRange, parts: number): KeyGroupRange[] {
  const size = range.end - range.start + 1;
  const n = Math.min(parts, size);
  return Array.from({ length: n }, (_, i) => ({
    start: range.start + Math.floor((i * size) / n),
    end: range.start + Math.floor(((i + 1) * size) / n) - 1,
  }));
}

/** The worker's compiled module (when this file runs from sources under a test runner, the built one). */
function workerUrl(): URL {
  const beside = new URL('../migrate-worker.js', import.meta.url);
  return existsSync(beside) ? beside : new URL('../../dist/migrate-worker.js', import.meta.url);
}

/** A worker's error as the class core exports under its name (so `instanceof` and `code` hold), else a plain Error. */
function reviveError({ name, message, stack, fields }: WorkerError): Error {
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
function startHelper(task: WorkerTask, onProgress: (done: number) => void): Helper {
  const worker = new Worker(workerUrl(), { workerData: task });
  const result = new Promise<DataFileMetadata[]>((resolve, reject) => {
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'progress') onProgress(m.done);
      else if (m.type === 'done') resolve(m.files);
      else reject(reviveError(m.error));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`migration worker exited with code ${code} before it finished`)));
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

export async function migrate(io: Io, src: string, options: MigrateOptions): Promise<number> {
  if (!options.job || !options.out) throw new UsageError('migrate needs --job <module> and --out <dir>');
  const workers = wholeNumber('workers', options.workers, 1, 64) ?? 1;
  const cores = availableParallelism();
  if (workers > cores) io.err(`stateshift migrate: warning: --workers ${workers} is more than this machine's ${cores} core${cores > 1 ? 's' : ''}; the extra workers only add overhead (use --workers ${cores})\n`);
  const { storage = {} } = options;
  checkOutside(options.out, [src]);
  const done = new Array<number>(workers).fill(0);
  let total = 0;
  const bar = progressBar(io, 'migrating');
  const progress = (i: number) => (d: number) => {
    done[i] = d;
    bar.update(done.reduce((a, b) => a + b, 0), total);
  };
  // Worker threads start first, so that their start overlaps this thread's loading of the job.
  const task: WorkerTask = {
    src: absoluteLocation(src),
    out: absoluteLocation(options.out),
    storage,
    jobModule: path.resolve(options.job),
    allowNonRestoredState: !!options.allowNonRestoredState,
    allowJobNameChange: !!options.allowJobNameChange,
  };
  const helpers = Array.from({ length: workers - 1 }, (_, i) => startHelper(task, progress(i + 1)));
  let writer: SavepointWriter | undefined;
  try {
    const job = await loadJob(options.job);
    const savepoint = await openForCli(src, storage);
    const range = options.keyGroups ? parseKeyGroupRange(options.keyGroups, job.maxParallelism) : { start: 0, end: job.maxParallelism - 1 };
    const rewrite = { job, allowNonRestoredState: options.allowNonRestoredState, allowJobNameChange: options.allowJobNameChange };
    // Decided here, in this thread: a refused upgrade fails before any part is written.
    const prepared = prepareRewrite(savepoint, rewrite);
    // With re-keying every part reads the whole source.
    const parts = splitRange(range, workers);
    total = savepoint.metadata.files.reduce((n, f) => n + f.entries, 0) * (prepared.rekey.size ? parts.length : 1);
    const started = Date.now();
    const keyGroupRanges = outputKeyGroups(prepared, range);
    if (options.replace) await removeUnfinished(options.out, storage);
    writer = await SavepointWriter.create(options.out, { ...prepared.layout, keyGroupRanges }, storage).catch((error: unknown) => {
      throw withReplaceHint(error, 'migrate');
    });
    // This thread migrates the first part itself while the workers take the others. Every part
    // settles before an error is thrown, so the abort below finds no writer still at work.
    const results = await Promise.allSettled([
      rewritePart(prepared, writer.storage, parts[0], 'w0', progress(0)),
      ...parts.slice(1).map((part, i) => helpers[i].run({ range: part, label: `w${i + 1}` })),
    ]);
    const files = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      // The parts that finished wrote files: recorded, the abort below removes them with the rest.
      for (const f of files) writer.addFile(f);
      throw failed.reason;
    }
    // Every part is done; the workers' last progress may not have arrived (sent at most every 100 ms).
    bar.update(total, total);
    bar.done();
    for (const f of files) writer.addFile(f);
    const metadata = await writer.commit();
    const seconds = (Date.now() - started) / 1000;
    const entries = metadata.files.reduce((n, f) => n + f.entries, 0);
    const bytes = metadata.files.reduce((n, f) => n + f.size, 0);
    const partial = !isFullRange(keyGroupRanges, metadata.maxParallelism);
    if (options.json) io.out(json({ out: options.out, entries, bytes, files: metadata.files.length, seconds, workers, keyGroups: range, partial, keyGroupRanges }, true));
    else {
      io.out(`migrated ${entries} entries into ${safe(options.out)} (${metadata.files.length} files, ${formatBytes(bytes)}) in ${seconds.toFixed(2)} s with ${workers} worker${workers > 1 ? 's' : ''}\n`);
      if (partial) io.out(`partial savepoint: key groups ${formatRanges(keyGroupRanges)}; join the parts with stateshift merge\n`);
    }
    return EXIT_OK;
  } catch (error) {
    bar.done();
    await writer?.abort();
    throw error;
  } finally {
    // Workers never handed a part (a refused upgrade, a bad source) are ended; the others have settled.
    await Promise.all(helpers.map((h) => h.stop()));
  }
}
