/**
 * Savepoint write and read throughput for BENCH_ENTRIES entries (default 1 million), against
 * writing and reading the same entry bytes with plain fs streams (no blocks, checksums or index).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportManual, timeIt } from '@stateshift/bench';
import { DataOutput, defineJob, int64, keyGroupOf, operator, string, valueState } from '@stateshift/core';
import { layoutOfJob, openSavepoint, SavepointWriter, type RawEntry } from '../src/index.js';

const N = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const MAX_PARALLELISM = 128;
const job = defineJob({ name: 'bench', maxParallelism: MAX_PARALLELISM, operators: [operator({ uid: 'op', key: string(), states: [valueState('v', int64())] })] });

const bytesOf = (write: (o: DataOutput) => void) => {
  const o = new DataOutput(32);
  write(o);
  return o.toBytes();
};
const empty = new Uint8Array(0);
const entries: RawEntry[] = Array.from({ length: N }, (_, i) => {
  const key = bytesOf((o) => string().serialize(`user-${i}`, o));
  return { state: 0, keyGroup: keyGroupOf(key, MAX_PARALLELISM), key, namespace: empty, mapKey: empty, version: 1, value: bytesOf((o) => int64().serialize(BigInt(i), o)) };
}).sort((a, b) => a.keyGroup - b.keyGroup);
const payloadBytes = entries.reduce((n, e) => n + e.key.length + e.value.length, 0);

const dir = await mkdtemp(join(tmpdir(), 'stateshift-bench-'));
try {
  const savepointDir = join(dir, 'sp');
  const write = await timeIt(async () => {
    const writer = await SavepointWriter.create(savepointDir, layoutOfJob(job));
    const file = await writer.openDataFile('op', { start: 0, end: MAX_PARALLELISM - 1 });
    for (const e of entries) {
      const flushing = file.append(e);
      if (flushing) await flushing;
    }
    await writer.closeDataFile(file);
    await writer.commit();
  });
  let read = 0;
  const readTime = await timeIt(async () => {
    const sp = await openSavepoint(savepointDir);
    for await (const block of sp.blocks('op')) read += block.length;
  });
  if (read !== N) throw new Error(`read ${read} of ${N} entries`);

  const plain = join(dir, 'plain.bin');
  const fsWrite = await timeIt(
    () =>
      new Promise<void>((resolve, reject) => {
        const stream = createWriteStream(plain);
        const out = new DataOutput(1 << 20);
        for (const e of entries) {
          out.writeBytes(e.key);
          out.writeBytes(e.value);
          if (out.length > 1 << 19) {
            stream.write(out.toBytes());
            out.reset();
          }
        }
        stream.end(out.toBytes());
        stream.on('finish', resolve).on('error', reject);
      }),
  );
  const fsRead = await timeIt(async () => {
    for await (const chunk of createReadStream(plain, { highWaterMark: 1 << 19 })) void (chunk as Buffer).length;
  });

  reportManual('savepoint', [
    { group: `write ${N} entries`, case: 'fs write stream', seconds: fsWrite, items: N, bytes: payloadBytes, baseline: true },
    { group: `write ${N} entries`, case: 'savepoint writer', seconds: write, items: N, bytes: payloadBytes },
    { group: `read ${N} entries`, case: 'fs read stream (no parsing)', seconds: fsRead, items: N, bytes: payloadBytes, baseline: true },
    { group: `read ${N} entries`, case: 'savepoint reader (verified, parsed)', seconds: readTime, items: N, bytes: payloadBytes },
  ]);
} finally {
  await rm(dir, { recursive: true, force: true });
}
