import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { StorageOptions } from '@stateshift/core';
import type { SavepointWriter } from '@stateshift/savepoint';
import { EXIT_OK, UsageError } from '../errors.js';
import { absoluteLocation, wholeNumber } from '../flags.js';
import { interruptible } from '../interrupt.js';
import { formatBytes, json, progressBar, type Io } from '../io.js';
import { startHelper } from '../migrate-threads.js';
import type { WorkerTask } from '../migrate-worker.js';
import { safe } from '../text.js';

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

export async function migrate(io: Io, src: string, options: MigrateOptions): Promise<number> {
  const { job, out } = options;
  if (!job || !out) throw new UsageError('migrate needs --job <module> and --out <dir>');
  const workers = wholeNumber('workers', options.workers, 1, 64) ?? 1;
  const cores = availableParallelism();
  if (workers > cores) io.err(`stateshift migrate: warning: --workers ${workers} is more than this machine's ${cores} core${cores > 1 ? 's' : ''}; the extra workers only add overhead (use --workers ${cores})\n`);
  const what = `the migration was interrupted; nothing was kept (what it had written to ${safe(out)} was removed)`;
  return interruptible(what, (signal) => migrateParts(io, src, { ...options, job, out }, workers, signal));
}

/** The migration; Ctrl-C stops each part at its next progress report (a part removes what it wrote), then the writer aborts. */
async function migrateParts(io: Io, src: string, options: MigrateOptions & { job: string; out: string }, workers: number, signal: AbortSignal): Promise<number> {
  const { storage = {} } = options;
  const done = new Array<number>(workers).fill(0);
  let total = 0;
  const bar = progressBar(io, 'migrating');
  const progress = (i: number) => (d: number) => {
    done[i] = d;
    bar.update(done.reduce((a, b) => a + b, 0), total);
  };
  // Worker threads start first, so that their start overlaps this thread's loading of the savepoint
  // modules and the job (which is why those are imported below, not at the top).
  const task: WorkerTask = {
    src: absoluteLocation(src),
    out: absoluteLocation(options.out),
    storage,
    jobModule: path.resolve(options.job),
    allowNonRestoredState: !!options.allowNonRestoredState,
    allowJobNameChange: !!options.allowJobNameChange,
    stop: new Int32Array(new SharedArrayBuffer(4)),
  };
  signal.addEventListener('abort', () => Atomics.store(task.stop, 0, 1));
  const helpers = Array.from({ length: workers - 1 }, (_, i) => startHelper(task, progress(i + 1)));
  let writer: SavepointWriter | undefined;
  try {
    const [{ parseKeyGroupRange }, { formatRanges, isFullRange, outputKeyGroups, prepareRewrite, rewritePart, SavepointWriter, splitByData }, { loadJob }, { openForCli }, locations] = await Promise.all([
      import('@stateshift/core'),
      import('@stateshift/savepoint'),
      import('../load-job.js'),
      import('../open.js'),
      import('../locations.js'),
    ]);
    locations.checkOutside(options.out, [src]);
    const job = await loadJob(options.job);
    const savepoint = await openForCli(src, storage);
    const range = options.keyGroups ? parseKeyGroupRange(options.keyGroups, job.maxParallelism) : { start: 0, end: job.maxParallelism - 1 };
    const rewrite = { job, allowNonRestoredState: options.allowNonRestoredState, allowJobNameChange: options.allowJobNameChange };
    // Decided here, in this thread: a refused upgrade fails before any part is written.
    const prepared = prepareRewrite(savepoint, rewrite);
    // A part per thread. With re-keying every part reads the whole source and keeps the new key
    // groups of its range: even in key groups. Otherwise about equal in bytes, so that a few dense
    // key groups do not leave one thread with most of the work.
    const parts = splitByData(prepared.rekey.size ? [] : savepoint.metadata.files, range, workers);
    total = savepoint.metadata.files.reduce((n, f) => n + f.entries, 0) * (prepared.rekey.size ? parts.length : 1);
    const started = Date.now();
    const keyGroupRanges = outputKeyGroups(prepared, range);
    signal.throwIfAborted();
    if (options.replace) await locations.removeUnfinished(options.out, storage);
    writer = await SavepointWriter.create(options.out, { ...prepared.layout, keyGroupRanges }, storage).catch((error: unknown) => {
      throw locations.withReplaceHint(error, 'migrate');
    });
    // This thread migrates the first part itself while the workers take the others. Every part
    // settles before an error is thrown, so the abort below finds no writer still at work.
    const results = await Promise.allSettled([
      rewritePart(prepared, writer.storage, parts[0], 'w0', (d) => {
        signal.throwIfAborted();
        progress(0)(d);
      }),
      ...parts.slice(1).map((part, i) => helpers[i].run({ range: part, label: `w${i + 1}` })),
    ]);
    const files = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    // Recorded first: when a part failed, or Ctrl-C came, the abort below removes the files of the parts that finished with the rest.
    for (const f of files) writer.addFile(f);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    signal.throwIfAborted();
    // Every part is done; the workers' last progress may not have arrived (sent at most every 100 ms).
    bar.update(total, total);
    bar.done();
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
