/**
 * Growth: time per entry and peak RSS of an LSM restore, the LSM eager migration pass on reopen,
 * and a savepoint of the LSM backend, at BENCH_GROWTH_SIZES entries (default 100k, 1M and 5M), on
 * the built package. Linear growth reads as a flat time per entry, flat memory as a flat peak RSS.
 *
 * Every measurement runs in a child process of its own, so its peak RSS is that of the operation
 * alone (plus the loaded modules, printed as "rss at start"):
 *   prepare   writes the savepoint of N Avro order records (untimed, bootstrapSavepoint)
 *   restore   restores it into a new database (job v1, no migration)
 *   savepoint writes a savepoint of that database
 *   migrate   reopens it with job v2 (int qty widened to long, a field added) in eager mode: the
 *             pass migrates every entry before open returns
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineJob, operator, string, valueState } from '@stateshift/core';
import { avro } from '@stateshift/avro';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { bootstrapSavepoint } from '@stateshift/savepoint';

const fields = [
  { name: 'orderId', type: 'string' },
  { name: 'userId', type: 'string' },
  { name: 'createTs', type: 'long' },
  { name: 'qty', type: 'int' },
];
const jobOf = (type: ReturnType<typeof avro>) =>
  defineJob({ name: 'orders', maxParallelism: 128, operators: [operator({ uid: 'orders', key: string(), states: [valueState('last-order', type)] })] });
const v1 = jobOf(avro({ type: 'record', name: 'Order', fields }));
const v2 = jobOf(avro({ type: 'record', name: 'Order', fields: [...fields.slice(0, 3), { name: 'qty', type: 'long' }, { name: 'channel', type: 'string', default: 'web' }] }));

const OPERATIONS = ['restore', 'savepoint', 'migrate'] as const;
type Operation = (typeof OPERATIONS)[number] | 'prepare';

interface Measurement {
  operation: Operation;
  entries: number;
  seconds: number;
  rssAtStartMiB: number;
  peakRssMiB: number;
  /** JS heap plus array buffers, sampled every 20 ms: apart from LevelDB's native memory. */
  peakHeapMiB: number;
  /**
   * Anonymous RSS (Linux, sampled every 20 ms): RSS less the pages of mapped files, which LevelDB
   * reads its tables through (mmap) and which grow with the database without being allocated.
   */
  peakAnonRssMiB?: number;
}

const MiB = 1024 * 1024;

async function child(operation: Operation, n: number, base: string): Promise<Measurement> {
  const rssAtStart = process.memoryUsage().rss;
  let peakHeap = 0;
  let peakAnon: number | undefined;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed + m.arrayBuffers);
    const anon = anonymousRss();
    if (anon !== undefined) peakAnon = Math.max(peakAnon ?? 0, anon);
  };
  const sampler = setInterval(sample, 20);
  const measured = (seconds: number): Measurement => {
    clearInterval(sampler);
    sample();
    return { operation, entries: n, seconds, rssAtStartMiB: rssAtStart / MiB, peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB, peakHeapMiB: peakHeap / MiB, ...(peakAnon === undefined ? {} : { peakAnonRssMiB: peakAnon / MiB }) };
  };
  const sp = join(base, 'sp');
  const db = join(base, 'db');
  const started = process.hrtime.bigint();
  if (operation === 'prepare') {
    await bootstrapSavepoint(
      sp,
      v1,
      (function* () {
        for (let i = 0; i < n; i++) {
          yield { operator: 'orders', state: 'last-order', key: `u-${i}`, value: { orderId: `o-${i}`, userId: `u-${i}`, createTs: 1_700_000_000_000n + BigInt(i), qty: i % 10 } };
        }
      })(),
    );
  } else if (operation === 'restore') {
    await (await openLsmBackend({ job: v1, dir: db, restoreFrom: sp })).close();
  } else if (operation === 'savepoint') {
    const backend = await openLsmBackend({ job: v1, dir: db });
    const t = process.hrtime.bigint();
    await backend.savepoint(join(base, 'sp-out'));
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    await backend.close();
    return measured(seconds);
  } else {
    await (await openLsmBackend({ job: v2, dir: db, migration: 'eager' })).close();
  }
  return measured(Number(process.hrtime.bigint() - started) / 1e9);
}

/** RssAnon from /proc/self/status, in bytes; undefined where there is none. */
function anonymousRss(): number | undefined {
  try {
    const kb = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'latin1'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

function runChild(operation: Operation, n: number, base: string): Measurement {
  const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), operation, String(n), base], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`growth bench: ${operation} of ${n} entries exited with ${result.status}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Measurement;
}

const [, , operation, count, dir] = process.argv;
if (operation) {
  console.log(JSON.stringify(await child(operation as Operation, Number(count), dir!)));
} else {
  const sizes = (process.env.BENCH_GROWTH_SIZES ?? '100000,1000000,5000000').split(',').map(Number);
  const rows: Measurement[] = [];
  for (const n of sizes) {
    const base = await mkdtemp(join(tmpdir(), 'stateshift-lsm-growth-'));
    try {
      runChild('prepare', n, base);
      for (const op of OPERATIONS) {
        const m = runChild(op, n, base);
        rows.push(m);
        console.log(
          `backend-lsm-growth | ${op.padEnd(9)} ${String(n).padStart(9)} entries: ${m.seconds.toFixed(2)} s, ${((m.seconds / n) * 1e6).toFixed(2)} µs/entry, ` +
            `peak RSS ${m.peakRssMiB.toFixed(0)} MiB (rss at start ${m.rssAtStartMiB.toFixed(0)} MiB), peak JS heap + buffers ${m.peakHeapMiB.toFixed(0)} MiB` +
            (m.peakAnonRssMiB === undefined ? '' : `, peak anonymous RSS ${m.peakAnonRssMiB.toFixed(0)} MiB`),
        );
      }
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }
  const results = new URL('../../../../bench-results/', import.meta.url);
  await mkdir(results, { recursive: true });
  await writeFile(new URL('backend-lsm-growth.json', results), JSON.stringify(rows, null, 2));
  for (const op of OPERATIONS) {
    const of = rows.filter((r) => r.operation === op);
    const perEntry = of.map((r) => r.seconds / r.entries);
    console.log(
      `backend-lsm-growth | ${op}: time per entry ${of.map((r, i) => `${r.entries}: ${(perEntry[i] * 1e6).toFixed(2)} µs`).join(', ')} ` +
        `(largest/smallest ${(perEntry.at(-1)! / perEntry[0]).toFixed(2)}x); peak RSS ${of.map((r) => r.peakRssMiB.toFixed(0)).join(' / ')} MiB, peak JS heap + buffers ${of.map((r) => r.peakHeapMiB.toFixed(0)).join(' / ')} MiB` +
        (of.every((r) => r.peakAnonRssMiB !== undefined) ? `, peak anonymous RSS ${of.map((r) => r.peakAnonRssMiB!.toFixed(0)).join(' / ')} MiB` : ''),
    );
  }
}
