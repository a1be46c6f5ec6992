/**
 * Restoring in place (issue 15) at BENCH_KEYS entries (default 1 million), on the built package:
 *   restore until the first read is served: in place against an eager restore (every entry copied
 *     and migrated first), runs alternating;
 *   reads served from the lower layer (the savepoint's files) against reads of copied entries;
 *   time until the lower layer is fully copied in (the background pass) against a lazy restore;
 *   for scale only (no baseline): a restore in place from S3 (s3rver in a child process, over
 *     loopback) until the first read, and first reads of key groups (a ranged GET each).
 */
import { fork } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runComparisons } from '@stateshift/bench';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { storageFor } from '@stateshift/savepoint';
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
      reps: REPS,
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
  await fromS3(savepoint, keys);
} finally {
  await rm(base, { recursive: true, force: true });
}

/**
 * A restore in place from S3, for scale only: s3rver (the tests' server script) runs in a child
 * process, since a synchronous read blocks this thread. Over loopback a ranged GET costs what
 * s3rver takes to serve it; a real store adds its network round trip to every first read of a key group.
 */
async function fromS3(savepoint: string, keys: string[]): Promise<void> {
  const bucket = 'stateshift-bench';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const child = fork(fileURLToPath(new URL('../../../savepoint/test/s3-process.mjs', import.meta.url)), [bucket], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code}`)));
    });
    const storage = { s3: { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } } };
    const url = `s3://${bucket}/sp`;
    const target = storageFor(url, storage);
    for (const name of await readdir(savepoint)) {
      if (name === '_metadata') continue;
      const sink = await target.create(name);
      for await (const chunk of createReadStream(join(savepoint, name))) await sink.write(chunk as Buffer);
      await sink.close();
    }
    await target.commit('_metadata', await readFile(join(savepoint, '_metadata')));
    const reads = keys.slice(0, 2000);
    let untilFirst = Infinity;
    let first = Infinity;
    let perRead = Infinity;
    for (let rep = 0; rep < REPS; rep++) {
      const started = process.hrtime.bigint();
      const b = await openLsmBackend({ job: v2.job, dir: fresh(), restoreFrom: url, storage, restore: 'in-place' });
      b.copying!.pause();
      const opened = process.hrtime.bigint();
      const value = b.operator(v2.orders).value(v2.last);
      value.get(`u-${N - 1}`);
      const served = process.hrtime.bigint();
      untilFirst = Math.min(untilFirst, Number(served - started) / 1e6);
      first = Math.min(first, Number(served - opened) / 1e6);
      const readsStarted = process.hrtime.bigint();
      for (const k of reads) value.get(k);
      perRead = Math.min(perRead, Number(process.hrtime.bigint() - readsStarted) / 1e6 / reads.length);
      await b.close();
    }
    console.log(
      `backend-lsm-in-place | from S3 (s3rver on loopback, for scale only; min of ${REPS}): restore until the first read ${untilFirst.toFixed(1)} ms, ` +
        `the first read ${first.toFixed(2)} ms, then ${reads.length} reads ${(perRead * 1000).toFixed(1)} µs each (first reads of key groups fetch their blocks)`,
    );
  } finally {
    child.kill('SIGTERM');
  }
}
