/**
 * `stateshift migrate` with 2 workers against 1, as users run it: each run is a new process of the
 * built CLI (`node dist/bin.js migrate ...`), so both pay the process's start, and a worker's start
 * (its own modules, job and JIT warm-up) counts against the split. Both contenders run the same
 * command on the same source savepoint (a pojo value gaining a field and widening int32 to int64,
 * so every entry is decoded and re-encoded) into a fresh output directory, interleaved, BENCH_REPS
 * pairs (default 7); only --workers differs, so the ratio is the speed-up of the split. Two sizes:
 * BENCH_ENTRIES (default 1 million) and five times as many, since what a split saves grows with
 * the work while a worker's start does not.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runComparisons } from '@stateshift/bench';
import { bootstrapSavepoint } from '@stateshift/savepoint';
import { loadJob } from '@stateshift/cli';

const N = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
// Compiled to bench/dist: the job modules and the CLI's dist stay beside the sources.
const here = (f: string) => fileURLToPath(new URL(`../${f}`, import.meta.url));
const cli = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), 'stateshift-cli-bench-'));
const cpuFile = join(dir, 'cpu');

async function sourceOf(n: number): Promise<string> {
  const src = join(dir, `src-${n}`);
  const v1 = await loadJob(here('job-v1.mjs'));
  await bootstrapSavepoint(
    src,
    v1,
    (function* () {
      for (let i = 0; i < n; i++) yield { operator: 'orders', state: 'last-order', key: `user-${i}`, value: { orderId: `o-${i}`, qty: i % 10 } };
    })(),
  );
  return src;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  console.log(`cli bench: whole processes of the built CLI, ${cpus().length} cores`);
  const sizes = [N, 5 * N];
  const sources = new Map<number, string>();
  for (const n of sizes) sources.set(n, await sourceOf(n));
  const out = join(dir, 'out');
  // CPU time of every thread of each process: what the split costs on top of the work,
  // whatever other processes on the machine take of its cores.
  const cpu = new Map(sizes.map((n) => [n, { 1: [] as number[], 2: [] as number[] }]));
  const migrate = (n: number, workers: 1 | 2) => async () => {
    const args = ['--import', here('cpu-at-exit.mjs'), cli, 'migrate', sources.get(n)!, '--job', here('job-v2.mjs'), '--out', out, '--workers', String(workers)];
    await run(process.execPath, args, { env: { ...process.env, BENCH_CPU_FILE: cpuFile } });
    cpu.get(n)![workers].push(Number(await readFile(cpuFile, 'utf8')));
  };
  const rows = await runComparisons(
    'cli',
    sizes.map((n) => ({
      name: `migrate ${n} entries`,
      baseline: { name: '--workers 1', run: migrate(n, 1) },
      candidate: { name: '--workers 2', run: migrate(n, 2) },
      items: n,
      target: 1.6,
      prepare: () => rm(out, { recursive: true, force: true }),
    })),
  );
  for (const [i, n] of sizes.entries()) {
    const [one, two] = [median(cpu.get(n)![1]), median(cpu.get(n)![2])];
    // One worker's wall time is below its CPU time (V8 collects garbage and compiles on the other
    // core), so the bound is its wall time against half of what two workers spend.
    const wall = n / rows[i].baselineItemsPerSecond;
    console.log(
      `cli | ${n} entries: CPU time per process (all threads, median): --workers 1 ${one.toFixed(2)} s, --workers 2 ${two.toFixed(2)} s; ` +
        `even with no idle moment on either core, the split could be at most ${(wall / (two / 2)).toFixed(2)}x faster`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
