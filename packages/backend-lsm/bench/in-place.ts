/**
 * Restoring in place (issue 15) at BENCH_KEYS entries (default 1 million), on the built package:
 *   restore until the first read is served: in place against an eager restore (every entry copied
 *     and migrated first), runs alternating;
 *   reads served from the lower layer (the savepoint's files) against reads of copied entries;
 *   time until the lower layer is fully copied in (the background pass) against a lazy restore.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runComparisons } from '@stateshift/bench';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { ordersSavepoint, v2 } from './orders-job.js';

const N = Number(process.env.BENCH_KEYS ?? 1_000_000);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const READS = 20_000;
const base = await mkdtemp(join(tmpdir(), 'stateshift-lsm-inplace-'));
let run = 0;
const fresh = () => join(base, `run-${run++}`);
try {
  const savepoint = await ordersSavepoint(base, N);
  const keys = Array.from({ length: READS }, (_, i) => `u-${(i * 7919) % N}`);
  let firstRead = Infinity;

  // The layers to read from: one restored in place (nothing copied: the pass is paused), one copied.
  const inPlace = await openLsmBackend({ job: v2.job, dir: fresh(), restoreFrom: savepoint, restore: 'in-place' });
  inPlace.copying!.pause();
  const copied = await openLsmBackend({ job: v2.job, dir: fresh(), restoreFrom: savepoint, migration: 'lazy' });
  let sink: unknown;

  await runComparisons('backend-lsm-in-place', [
    {
      name: `restore of ${N} entries until the first read is served`,
      items: N,
      target: 20,
      reps: REPS,
      baseline: {
        name: 'eager restore (copied and migrated)',
        run: async () => {
          const b = await openLsmBackend({ job: v2.job, dir: fresh(), restoreFrom: savepoint, migration: 'eager' });
          sink = b.operator(v2.orders).value(v2.last).get(`u-${N - 1}`);
          await b.close();
        },
      },
      candidate: {
        name: 'restore in place',
        run: async () => {
          const b = await openLsmBackend({ job: v2.job, dir: fresh(), restoreFrom: savepoint, restore: 'in-place' });
          b.copying!.pause();
          const started = process.hrtime.bigint();
          sink = b.operator(v2.orders).value(v2.last).get(`u-${N - 1}`);
          firstRead = Math.min(firstRead, Number(process.hrtime.bigint() - started) / 1e6);
          await b.close();
        },
      },
    },
    {
      name: `${READS} point reads (migrated as read)`,
      items: READS,
      target: 0.5,
      reps: REPS,
      baseline: { name: 'reads of copied entries', run: () => { for (const k of keys) sink = copied.operator(v2.orders).value(v2.last).get(k); } },
      candidate: { name: 'reads from the lower layer', run: () => { for (const k of keys) sink = inPlace.operator(v2.orders).value(v2.last).get(k); } },
    },
    {
      name: `${N} entries fully in LevelDB`,
      items: N,
      target: 1,
      reps: Math.min(REPS, 3),
      baseline: { name: 'lazy restore', run: async () => (await openLsmBackend({ job: v2.job, dir: fresh(), restoreFrom: savepoint, migration: 'lazy' })).close() },
      candidate: {
        name: 'in place, then the copy pass to its end',
        run: async () => {
          const b = await openLsmBackend({ job: v2.job, dir: fresh(), restoreFrom: savepoint, restore: 'in-place' });
          await b.copying!.done;
          await b.close();
        },
      },
    },
  ]);
  void sink;
  console.log(`backend-lsm-in-place | first read after a restore in place of ${N} entries: min ${firstRead.toFixed(3)} ms (target under 1 ms)`);
  await inPlace.close();
  await copied.close();
} finally {
  await rm(base, { recursive: true, force: true });
}
