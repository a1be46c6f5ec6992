/**
 * Interleaved comparisons: a candidate and its baseline run in turn (A B, then B A, ...), each run
 * doing the same fixed amount of work, repeated; the ratio baseline time / candidate time is taken
 * pair by pair, so drift of a noisy machine cancels out, and its minimum and median are printed. A
 * ratio of 1 means as fast as the baseline; higher is faster.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Contender {
  name: string;
  /** Does one run's work (the same work for both contenders); may be async. */
  run: () => unknown;
}

export interface Comparison {
  name: string;
  baseline: Contender;
  candidate: Contender;
  /** Items one run handles, for items/s. */
  items: number;
  /** The least ratio wanted; printed with "ok" or "MISS", never asserted. */
  target?: number;
  /** Counted pairs of runs. Default 7, or BENCH_REPS. */
  reps?: number;
  /** Called before each run of either contender (untimed), e.g. to reset state. */
  prepare?: () => unknown;
}

export interface ComparisonRow {
  name: string;
  baseline: string;
  candidate: string;
  items: number;
  baselineItemsPerSecond: number;
  candidateItemsPerSecond: number;
  ratios: number[];
  minRatio: number;
  medianRatio: number;
  target?: number;
}

async function timed(c: Contender, prepare?: () => unknown): Promise<number> {
  if (prepare) await prepare();
  const start = process.hrtime.bigint();
  await c.run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function compare(c: Comparison): Promise<ComparisonRow> {
  const reps = c.reps ?? Number(process.env.BENCH_REPS ?? 7);
  // Warm-up: both, untimed.
  await timed(c.baseline, c.prepare);
  await timed(c.candidate, c.prepare);
  const ratios: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < reps; i++) {
    let ta: number;
    let tb: number;
    if (i % 2 === 0) {
      ta = await timed(c.baseline, c.prepare);
      tb = await timed(c.candidate, c.prepare);
    } else {
      tb = await timed(c.candidate, c.prepare);
      ta = await timed(c.baseline, c.prepare);
    }
    a.push(ta);
    b.push(tb);
    ratios.push(ta / tb);
  }
  return {
    name: c.name,
    baseline: c.baseline.name,
    candidate: c.candidate.name,
    items: c.items,
    baselineItemsPerSecond: c.items / median(a),
    candidateItemsPerSecond: c.items / median(b),
    ratios,
    minRatio: Math.min(...ratios),
    medianRatio: median(ratios),
    ...(c.target !== undefined ? { target: c.target } : {}),
  };
}

function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) return from;
    dir = up;
  }
  return dir;
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

/** Runs the comparisons one after the other, prints a table, writes `bench-results/<suite>.json`. */
export async function runComparisons(suite: string, comparisons: Comparison[]): Promise<ComparisonRow[]> {
  const rows: ComparisonRow[] = [];
  for (const c of comparisons) {
    const row = await compare(c);
    rows.push(row);
    const verdict = row.target === undefined ? '' : row.medianRatio >= row.target ? `  target ${row.target}x ok` : `  target ${row.target}x MISS`;
    console.log(
      `${suite} | ${row.name}: ${row.candidate} ${fmt(row.candidateItemsPerSecond)}/s vs ${row.baseline} ${fmt(row.baselineItemsPerSecond)}/s ` +
        `ratio min ${row.minRatio.toFixed(2)}x median ${row.medianRatio.toFixed(2)}x over ${row.ratios.length} interleaved pairs${verdict}`,
    );
  }
  const dir = join(findRoot(process.cwd()), 'bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${suite}.json`), JSON.stringify(rows, null, 2));
  return rows;
}
