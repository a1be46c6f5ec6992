/**
 * Peak memory of the offline tools: peak RSS of bootstrapSavepoint and of rewrites (a migration
 * that streams file by file, a rescale that re-keys and sorts) at 1 and 5 million entries, against
 * a baseline process that generates the same entries and writes nothing. Runs the built code
 * (dist), one process per measurement, candidates and baseline interleaved, BENCH_REPEAT times
 * (default 5); prints min and median peak RSS and their ratio to the baseline.
 *
 *   node bench/memory.mjs [sizes...]      e.g. node bench/memory.mjs 1000000 5000000
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const MAX_PARALLELISM = 128;

async function measure(task, n, dir) {
  const core = await import('@stateshift/core');
  const sp = await import('../dist/index.js');
  const { defineJob, int32, int64, listState, operator, string, valueState } = core;
  const job = (value, maxParallelism = MAX_PARALLELISM) =>
    defineJob({ name: 'bench', maxParallelism, operators: [operator({ uid: 'op', key: string(), states: [valueState('v', value), listState('l', string())] })] });
  function* entries() {
    for (let i = 0; i < n; i++) {
      if (i % 4 === 3) yield { operator: 'op', state: 'l', key: `user-${(i * 7919) % n}`, value: `event-${i}` };
      else yield { operator: 'op', state: 'v', key: `user-${(i * 7919) % n}`, value: i };
    }
  }
  const source = join(dir, 'source');
  if (task === 'baseline') {
    let count = 0;
    for (const e of entries()) count += e.key.length;
    if (!count) throw new Error('nothing generated');
  } else if (task === 'bootstrap') {
    await sp.bootstrapSavepoint(source, job(int32()), entries());
  } else {
    // The source is written by an earlier process, so this one measures the rewrite alone.
    const out = join(dir, `out-${task}`);
    if (task === 'migrate') await sp.rewriteSavepoint(source, out, { job: job(int64()) });
    else await sp.rescaleSavepoint(source, out, { maxParallelism: MAX_PARALLELISM * 2 });
  }
  return process.resourceUsage().maxRSS * 1024;
}

if (process.argv[2] === '--child') {
  const [, , , task, n, dir] = process.argv;
  const rss = await measure(task, Number(n), dir);
  process.stdout.write(JSON.stringify({ rss }));
} else {
  const sizes = process.argv.slice(2).map(Number);
  const repeat = Number(process.env.BENCH_REPEAT ?? 5);
  const mib = (b) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
  const run = (task, n, dir) => {
    const r = spawnSync(process.execPath, [self, '--child', task, String(n), dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${task} ${n}: ${r.stderr}`);
    return JSON.parse(r.stdout).rss;
  };
  console.log(`peak RSS (min / median of ${repeat} runs), one process per run`);
  for (const n of sizes.length ? sizes : [1_000_000, 5_000_000]) {
    const results = { baseline: [], bootstrap: [], migrate: [], rescale: [] };
    for (let r = 0; r < repeat; r++) {
      const dir = mkdtempSync(join(tmpdir(), 'stateshift-membench-'));
      try {
        for (const task of ['baseline', 'bootstrap', 'migrate', 'rescale']) results[task].push(run(task, n, dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const stats = (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      return { min: s[0], median: s[Math.floor(s.length / 2)] };
    };
    const base = stats(results.baseline);
    for (const [task, xs] of Object.entries(results)) {
      const { min, median } = stats(xs);
      const ratio = task === 'baseline' ? '' : `  (x${(min / base.min).toFixed(2)} min, x${(median / base.median).toFixed(2)} median of baseline)`;
      console.log(`${String(n).padStart(9)} entries  ${task.padEnd(9)} ${mib(min)} / ${mib(median)}${ratio}`);
    }
  }
}
