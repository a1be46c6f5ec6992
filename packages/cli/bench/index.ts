/**
 * `stateshift migrate` of BENCH_ENTRIES entries (default 1 million) with 2 workers against 1, in
 * the built CLI (`@stateshift/cli` resolves to dist). Both contenders run the same command on the
 * same source savepoint (a pojo value gaining a field and widening int32 to int64, so every entry
 * is decoded and re-encoded) into a fresh output directory, interleaved, BENCH_REPS pairs
 * (default 7); only --workers differs, so the ratio is the speed-up of the worker split.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runComparisons } from '@stateshift/bench';
import { bootstrapSavepoint } from '@stateshift/savepoint';
import { loadJob, main, type Io } from '@stateshift/cli';

const N = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
// Compiled to bench/dist: the job modules stay beside the sources.
const here = (f: string) => fileURLToPath(new URL(`../${f}`, import.meta.url));
const io: Io = { out: () => undefined, err: (t) => process.stderr.write(t), tty: false, errTty: false, color: false };
const dir = await mkdtemp(join(tmpdir(), 'stateshift-cli-bench-'));
try {
  const src = join(dir, 'src');
  const v1 = await loadJob(here('job-v1.mjs'));
  await bootstrapSavepoint(
    src,
    v1,
    (function* () {
      for (let i = 0; i < N; i++) yield { operator: 'orders', state: 'last-order', key: `user-${i}`, value: { orderId: `o-${i}`, qty: i % 10 } };
    })(),
  );
  const out = join(dir, 'out');
  // CPU time of every thread of the process, per run: what the split costs on top of the work,
  // whatever other processes on the machine take of its cores.
  const cpu: Record<number, number[]> = { 1: [], 2: [] };
  const migrate = (workers: number) => async () => {
    const before = process.cpuUsage();
    const code = await main(['migrate', src, '--job', here('job-v2.mjs'), '--out', out, '--workers', String(workers)], io);
    if (code !== 0) throw new Error(`migrate --workers ${workers} exited with ${code}`);
    const used = process.cpuUsage(before);
    cpu[workers].push((used.user + used.system) / 1e6);
  };
  console.log(`cli bench: ${N} entries, ${cpus().length} cores`);
  await runComparisons('cli', [
    {
      name: `migrate ${N} entries`,
      baseline: { name: '--workers 1', run: migrate(1) },
      candidate: { name: '--workers 2', run: migrate(2) },
      items: N,
      target: 1.6,
      prepare: () => rm(out, { recursive: true, force: true }),
    },
  ]);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [one, two] = [median(cpu[1]), median(cpu[2])];
  console.log(
    `cli | CPU time per run (all threads, median): --workers 1 ${one.toFixed(2)} s, --workers 2 ${two.toFixed(2)} s; ` +
      `on two free cores the split can be at most ${((2 * one) / two).toFixed(2)}x faster`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
