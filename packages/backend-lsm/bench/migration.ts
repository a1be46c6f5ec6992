/**
 * Restore and migration at scale (BENCH_KEYS order records, default 1 million), on the built
 * package, each against the floor: the same work written by hand on raw classic-level.
 *
 *   restore: the LSM restore (reads the savepoint, builds the keys, writes batches) against raw
 *     classic-level batch puts of the same prebuilt entries (same keys and value bytes, same batch
 *     size), twice: each batch awaited before the next is filled (the plain loop), and pipelined as
 *     the restore writes them (the next batch filled while LevelDB writes the previous one: the
 *     same calls in the same order); then the first read after the restore.
 *   eager pass on reopen: the migration pass over a database restored lazily (every entry at the old
 *     version) against the hand-written floor over a copy of the same database: nextv batches, decode
 *     with the old reader, encode with the new writer, batch put (what the pass does, less its
 *     bookkeeping).
 * Runs alternate; each run starts from a fresh copy (copying is not timed).
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runComparisons } from '@stateshift/bench';
import { DataInput, DataOutput, readerFor, resolveSchemaCompatibility } from '@stateshift/core';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { ordersSavepoint, v1, v1Type, v2, v2Type } from './orders-job.js';
import { ClassicLevel } from 'classic-level';

const N = Number(process.env.BENCH_KEYS ?? 1_000_000);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const base = await mkdtemp(join(tmpdir(), 'stateshift-lsm-migration-'));
let run = 0;
const fresh = () => join(base, `run-${run++}`);
try {
  const savepoint = await ordersSavepoint(base, N);

  // The restore's floor: the same entries the restore writes, built beforehand, put in 5000s.
  const lazyRef = await openLsmBackend({ job: v1.job, dir: join(base, 'reference'), restoreFrom: savepoint });
  await lazyRef.close();
  const ref = new ClassicLevel<Uint8Array, Uint8Array>(join(base, 'reference'), { keyEncoding: 'view', valueEncoding: 'view' });
  const prebuilt: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
  for await (const [key, value] of ref.iterator({ gte: new Uint8Array([0, 0]), lt: new Uint8Array([0xff, 0xfe]) })) prebuilt.push({ type: 'put', key, value });
  await ref.close();
  let firstRead = Infinity;

  // The eager pass's floor works on a database at the old version: a lazy restore made once.
  const lazyBase = join(base, 'lazy-base');
  await (await openLsmBackend({ job: v2.job, dir: lazyBase, restoreFrom: savepoint, migration: 'lazy' })).close();
  let copy = '';
  // The hand-written floor reads old bytes the way the pass does: through the resolved reader.
  const readOld = readerFor(resolveSchemaCompatibility(v2Type.snapshot(), v1Type.snapshot()), v2Type);
  const out = new DataOutput(256);

  const restore = {
    name: 'lsm restore',
    run: async () => {
      const backend = await openLsmBackend({ job: v1.job, dir: fresh(), restoreFrom: savepoint });
      const started = process.hrtime.bigint();
      backend.operator(v1.orders).value(v1.last).get(`u-${N - 1}`);
      firstRead = Math.min(firstRead, Number(process.hrtime.bigint() - started) / 1e6);
      await backend.close();
    },
  };

  /** Raw chained-batch puts of the prebuilt entries in 5000s; `pipelined`: the next batch fills while the previous one is written. */
  const rawPuts = (pipelined: boolean) => async () => {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(fresh(), { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    let writing: Promise<void> | undefined;
    for (let i = 0; i < prebuilt.length; i += 5000) {
      const batch = db.batch();
      for (let j = i; j < Math.min(i + 5000, prebuilt.length); j++) batch.put(prebuilt[j].key, prebuilt[j].value);
      const previous = writing;
      writing = batch.write();
      await (pipelined ? previous : writing);
    }
    await writing;
    await db.close();
  };

  await runComparisons('backend-lsm-migration', [
    {
      name: `restore of ${N} entries (bytes copied), pipelined floor`,
      items: N,
      target: 0.8,
      reps: REPS,
      baseline: {
        name: 'raw classic-level batch puts of the same entries, pipelined',
        run: rawPuts(true),
      },
      candidate: restore,
    },
    {
      name: `restore of ${N} entries (bytes copied)`,
      items: N,
      target: 0.8,
      reps: REPS,
      baseline: {
        name: 'raw classic-level batch puts of the same entries',
        run: rawPuts(false),
      },
      candidate: restore,
    },
    {
      name: `eager migration pass of ${N} entries on reopen`,
      items: N,
      target: 0.9,
      reps: REPS,
      prepare: async () => {
        copy = fresh();
        await cp(lazyBase, copy, { recursive: true });
      },
      baseline: {
        name: 'by hand: nextv + read old (resolved) + encode new + batch put',
        run: async () => {
          const db = new ClassicLevel<Uint8Array, Uint8Array>(copy, { keyEncoding: 'view', valueEncoding: 'view' });
          await db.open();
          const iterator = db.iterator({ gte: new Uint8Array([0, 0]), lt: new Uint8Array([0, 1]) });
          for (;;) {
            const read = await iterator.nextv(1000);
            if (!read.length) break;
            const batch = db.batch();
            for (const [key, value] of read) {
              const input = new DataInput(value);
              input.readVarUint();
              out.reset();
              out.writeVarUint(2);
              v2Type.serialize(readOld.deserialize(input), out);
              batch.put(key, out.toBytes());
            }
            await batch.write();
          }
          await iterator.close();
          await db.close();
        },
      },
      candidate: {
        name: 'lsm eager pass (reopen)',
        run: async () => (await openLsmBackend({ job: v2.job, dir: copy, migration: 'eager' })).close(),
      },
    },
  ]);
  console.log(`backend-lsm-migration | first read after a restore of ${N} entries: min ${firstRead.toFixed(3)} ms (target under 1 ms)`);
} finally {
  await rm(base, { recursive: true, force: true });
}
