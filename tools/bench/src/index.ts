/**
 * The benchmark harness every package's `bench/index.ts` uses: each group runs a baseline (the raw
 * library underneath) and the cases that compete with it in the same process, prints a table with
 * the ratio to the baseline, and writes the results as JSON under `bench-results/` at the repo root.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';

export interface BenchCase {
  /** Runs one operation; may be async. */
  fn: () => unknown;
  /** Items one call of `fn` handles (entries, records), for items/s. Default 1. */
  items?: number;
  /** Bytes one call of `fn` handles, for MB/s. */
  bytes?: number;
}

export interface BenchGroup {
  name: string;
  /** The name of the case every other case is compared with. */
  baseline: string;
  cases: Record<string, BenchCase | (() => unknown)>;
  /** The least ratio a case should reach against the baseline; printed as a target, never asserted. */
  target?: number;
}

export interface BenchRow {
  group: string;
  case: string;
  opsPerSecond: number;
  itemsPerSecond: number;
  megabytesPerSecond?: number;
  meanMs: number;
  rme: number;
  samples: number;
  ratio: number;
  target?: number;
}

export interface SuiteOptions {
  /** Milliseconds each case runs for. Default 500, or BENCH_TIME from the environment. */
  time?: number;
}

/** Runs every group, prints one table, and writes `bench-results/<suite>.json`. */
export async function runSuite(suite: string, groups: BenchGroup[], options: SuiteOptions = {}): Promise<BenchRow[]> {
  const time = options.time ?? Number(process.env.BENCH_TIME ?? 500);
  const rows: BenchRow[] = [];
  for (const group of groups) {
    const bench = new Bench({ time, warmupTime: Math.min(200, time / 2) });
    const cases = Object.entries(group.cases).map(([name, c]) => [name, typeof c === 'function' ? { fn: c } : c] as const);
    if (!cases.some(([name]) => name === group.baseline)) {
      throw new TypeError(`bench group "${group.name}" has no case named its baseline "${group.baseline}"`);
    }
    for (const [name, c] of cases) bench.add(name, c.fn as () => unknown);
    await bench.run();
    const byName = new Map(bench.tasks.map((t) => [t.name, t]));
    const hz = (name: string) => {
      const result = byName.get(name)?.result as { throughput?: { mean: number }; hz?: number } | undefined;
      return result?.throughput?.mean ?? result?.hz ?? 0;
    };
    const baseHz = hz(group.baseline);
    for (const [name, c] of cases) {
      const result = byName.get(name)?.result as
        | { latency?: { mean: number; rme: number; samplesCount?: number }; mean?: number; rme?: number; samples?: unknown[] }
        | undefined;
      const ops = hz(name);
      rows.push({
        group: group.name,
        case: name,
        opsPerSecond: ops,
        itemsPerSecond: ops * (c.items ?? 1),
        megabytesPerSecond: c.bytes === undefined ? undefined : (ops * c.bytes) / 1e6,
        meanMs: result?.latency?.mean ?? result?.mean ?? 0,
        rme: result?.latency?.rme ?? result?.rme ?? 0,
        samples: result?.latency?.samplesCount ?? result?.samples?.length ?? 0,
        ratio: baseHz > 0 ? ops / baseHz : 0,
        target: name === group.baseline ? undefined : group.target,
      });
    }
  }
  printTable(suite, rows);
  writeResults(suite, rows);
  return rows;
}

/** Records a measurement made by hand (a one-off restore, a migration of a million entries). */
export interface ManualRow {
  group: string;
  case: string;
  seconds: number;
  items?: number;
  bytes?: number;
  baseline?: boolean;
  target?: number;
}

/** Prints and writes rows measured by hand; ratios are items/s (or 1/seconds) against the group's baseline. */
export function reportManual(suite: string, manual: ManualRow[]): BenchRow[] {
  const rate = (m: ManualRow) => (m.items ?? 1) / m.seconds;
  const rows = manual.map((m) => {
    const base = manual.find((b) => b.group === m.group && b.baseline);
    return {
      group: m.group,
      case: m.case,
      opsPerSecond: 1 / m.seconds,
      itemsPerSecond: rate(m),
      megabytesPerSecond: m.bytes === undefined ? undefined : m.bytes / m.seconds / 1e6,
      meanMs: m.seconds * 1000,
      rme: 0,
      samples: 1,
      ratio: base ? rate(m) / rate(base) : 1,
      target: m.baseline ? undefined : m.target,
    };
  });
  printTable(suite, rows);
  writeResults(suite, rows);
  return rows;
}

/** Times one async or sync call in seconds. */
export async function timeIt(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function printTable(suite: string, rows: BenchRow[]): void {
  const header = ['group', 'case', 'ops/s', 'items/s', 'MB/s', 'mean ms', '±%', 'ratio', 'target'];
  const body = rows.map((r) => [
    r.group,
    r.case,
    fmt(r.opsPerSecond),
    fmt(r.itemsPerSecond),
    fmt(r.megabytesPerSecond, 1),
    fmt(r.meanMs, 4),
    fmt(r.rme, 1),
    fmt(r.ratio, 2),
    r.target === undefined ? '' : `${r.ratio >= r.target ? 'ok' : 'MISS'} >= ${r.target}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\n${suite}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

function writeResults(suite: string, rows: BenchRow[]): void {
  const file = join(findRepoRoot(), 'bench-results', `${suite}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ suite, node: process.version, date: new Date().toISOString(), rows }, null, 2) + '\n');
  console.log(`results written to ${file}`);
}

/** The workspace root (the folder holding pnpm-workspace.yaml), else the current directory. */
function findRepoRoot(): string {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}
export { compare, runComparisons, type Comparison, type ComparisonRow, type Contender } from './interleaved.js';

/** One candidate against its baseline, run interleaved. */
export interface PairGroup {
  name: string;
  baseline: { name: string; fn: () => unknown };
  candidate: { name: string; fn: () => unknown };
  /** Items one call handles (for items/s). */
  items?: number;
  /** The least ratio the candidate should reach; printed, never asserted. */
  target?: number;
}

export interface PairRow {
  group: string;
  baseline: string;
  candidate: string;
  baselineItemsPerSecond: number;
  candidateItemsPerSecond: number;
  minRatio: number;
  medianRatio: number;
  ratios: number[];
  target?: number;
}

/** Calls `fn` for about `ms` milliseconds and returns calls per second. */
function rate(fn: () => unknown, ms: number): number {
  const budget = BigInt(Math.round(ms * 1e6));
  const start = process.hrtime.bigint();
  let calls = 0;
  let elapsed = 0n;
  do {
    fn();
    calls++;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  return (calls * 1e9) / Number(elapsed);
}

/**
 * Runs each group's baseline and candidate interleaved, `repetitions` times (at least 5), the order
 * alternating per repetition so neither always runs warm or cold, and prints per group the min and
 * median ratio candidate / baseline. Writes `bench-results/<suite>.json`.
 */
export function comparePairs(suite: string, groups: PairGroup[], options: { repetitions?: number; ms?: number } = {}): PairRow[] {
  const repetitions = Math.max(5, options.repetitions ?? Number(process.env.BENCH_REPETITIONS ?? 9));
  const ms = options.ms ?? Number(process.env.BENCH_TIME ?? 300);
  const rows: PairRow[] = [];
  for (const g of groups) {
    // Warm both up before measuring.
    rate(g.baseline.fn, Math.min(200, ms));
    rate(g.candidate.fn, Math.min(200, ms));
    const ratios: number[] = [];
    const base: number[] = [];
    const cand: number[] = [];
    for (let r = 0; r < repetitions; r++) {
      let b: number;
      let c: number;
      if (r % 2 === 0) {
        b = rate(g.baseline.fn, ms);
        c = rate(g.candidate.fn, ms);
      } else {
        c = rate(g.candidate.fn, ms);
        b = rate(g.baseline.fn, ms);
      }
      base.push(b);
      cand.push(c);
      ratios.push(c / b);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    rows.push({
      group: g.name,
      baseline: g.baseline.name,
      candidate: g.candidate.name,
      baselineItemsPerSecond: median(base) * (g.items ?? 1),
      candidateItemsPerSecond: median(cand) * (g.items ?? 1),
      minRatio: Math.min(...ratios),
      medianRatio: median(ratios),
      ratios,
      target: g.target,
    });
  }
  const header = ['group', 'candidate / baseline', 'baseline items/s', 'candidate items/s', 'min', 'median', 'target'];
  const body = rows.map((r) => [
    r.group,
    `${r.candidate} / ${r.baseline}`,
    fmt(r.baselineItemsPerSecond),
    fmt(r.candidateItemsPerSecond),
    fmt(r.minRatio, 2),
    fmt(r.medianRatio, 2),
    r.target === undefined ? '' : `${r.medianRatio >= r.target ? 'ok' : 'MISS'} >= ${r.target}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\n${suite} (${repetitions} interleaved repetitions of ${ms} ms each)`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  const file = join(findRepoRoot(), 'bench-results', `${suite}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ suite, node: process.version, date: new Date().toISOString(), repetitions, ms, rows }, null, 2) + '\n');
  console.log(`results written to ${file}`);
  return rows;
}
