import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseKeyGroupRange, type KeyGroupRange } from '@stateshift/core';
import { openSavepoint, prepareRewrite, rewritePart, SavepointWriter, type DataFileMetadata } from '@stateshift/savepoint';
import { formatBytes, json, progressBar, type Io } from '../io.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { loadJob } from '../load-job.js';
import type { WorkerReply, WorkerTask } from '../migrate-worker.js';

export const migrateHelp = `stateshift migrate <savepoint> --job <module> --out <dir> [--key-groups a-b] [--workers n] [--allow-non-restored-state] [--json]

Offline eager migration: writes a new savepoint at --out in which every entry is read as the job
module's declaration reads it (migrations, converters, re-keying) and written with its serializers.
The source is never modified; --out must not exist or be empty; _metadata is written last.
--key-groups a-b writes only that range (for splitting work across machines); --workers n splits
the range across n worker threads.`;

export interface MigrateOptions {
  job?: string;
  out?: string;
  keyGroups?: string;
  workers?: string;
  allowNonRestoredState?: boolean;
  json?: boolean;
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

function runWorker(task: WorkerTask, onProgress: (done: number) => void): Promise<DataFileMetadata[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl(), { workerData: task });
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'progress') onProgress(m.done);
      else if (m.type === 'done') resolve(m.files);
      else reject(Object.assign(new Error(m.message), { name: m.name }));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => code !== 0 && reject(new Error(`migration worker exited with code ${code}`)));
  });
}

export async function migrate(io: Io, src: string, options: MigrateOptions): Promise<number> {
  if (!options.job || !options.out) throw new UsageError('migrate needs --job <module> and --out <dir>');
  const workers = options.workers === undefined ? 1 : Number(options.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new UsageError(`--workers must be a whole number in 1..64, got ${options.workers}`);
  const job = await loadJob(options.job);
  const savepoint = await openSavepoint(src);
  const range = options.keyGroups ? parseKeyGroupRange(options.keyGroups, job.maxParallelism) : { start: 0, end: job.maxParallelism - 1 };
  const rewrite = { job, allowNonRestoredState: options.allowNonRestoredState };
  // Decided up front, in this thread: a refused upgrade fails before any worker starts.
  const prepared = prepareRewrite(savepoint, rewrite);
  const total = savepoint.metadata.files.reduce((n, f) => n + f.entries, 0) * (prepared.rekey.size && workers > 1 ? workers : 1);
  const started = Date.now();
  const bar = progressBar(io, 'migrating');
  const writer = await SavepointWriter.create(options.out, prepared.layout);
  try {
    let files: DataFileMetadata[];
    if (workers === 1) {
      files = await rewritePart(prepared, options.out, range, 'p', (done) => bar.update(done, total));
    } else {
      const done = new Array<number>(workers).fill(0);
      const parts = splitRange(range, workers);
      const results = await Promise.all(
        parts.map((part, i) =>
          runWorker({ src: path.resolve(src), out: path.resolve(options.out!), jobModule: path.resolve(options.job!), range: part, part: `w${i}`, allowNonRestoredState: !!options.allowNonRestoredState }, (d) => {
            done[i] = d;
            bar.update(done.reduce((a, b) => a + b, 0), total);
          }),
        ),
      );
      files = results.flat();
    }
    bar.done();
    for (const f of files) writer.addFile(f);
    const metadata = await writer.commit();
    const seconds = (Date.now() - started) / 1000;
    const entries = metadata.files.reduce((n, f) => n + f.entries, 0);
    const bytes = metadata.files.reduce((n, f) => n + f.size, 0);
    if (options.json) io.out(json({ out: options.out, entries, bytes, files: metadata.files.length, seconds, workers, keyGroups: range }, true));
    else io.out(`migrated ${entries} entries into ${options.out} (${metadata.files.length} files, ${formatBytes(bytes)}) in ${seconds.toFixed(2)} s with ${workers} worker${workers > 1 ? 's' : ''}\n`);
    return EXIT_OK;
  } catch (error) {
    bar.done();
    await writer.abort();
    throw error;
  }
}
