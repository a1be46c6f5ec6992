/**
 * Savepoint writer and reader throughput, run on the built package (`pnpm bench` compiles this file
 * and runs it with node). Two entry shapes: BENCH_ENTRIES (default 1 million) small entries (a
 * string key and an int64, 25 bytes each in the file) and a fifth as many with 200-byte values.
 * Entries are built in key-group order, as a backend's scan yields them.
 *
 * Baseline "same bytes": exactly the bytes the savepoint writer wrote (its data file and
 * `_metadata`, taken from a first run), written with plain fs write streams in the writer's 1 MiB
 * chunks and made as durable the same way: each file fsynced before it closes (`flush: true`),
 * `_metadata` written to a temporary name and renamed, the directory fsynced. It does not touch the
 * entries at all, so it is the ceiling: the writer's own work on top is reading every entry and
 * encoding it into blocks, one CRC-32 per byte, the key-group index and its lock file.
 * Baseline "entry bytes": the same entries' fields (varints and bytes, as in a block) copied by hand
 * into 1 MiB chunks and streamed the same way: the per-entry copying any writer of these entries
 * does, without blocks, checksums or index. From the two follows the most any writer that takes
 * these entries one by one can reach against "same bytes", even one that overlaps every write with
 * its copying: same / (entry bytes - same), printed too.
 * Candidate and baselines take turns, BENCH_REPS times (default 7); a ratio is baseline time over
 * writer time (1 = as fast as the baseline), printed as min and median.
 *
 * The S3 rows write and read the same savepoint through s3rver on 127.0.0.1 (loopback, started
 * here): throughput only, for scale; s3rver stores every object in its own files, so it is slower
 * than a real store's network path would suggest.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportManual, type ManualRow } from '@stateshift/bench';
import { DataOutput, defineJob, int64, keyGroupOf, operator, putVarUint, string, valueState } from '@stateshift/core';
import { layoutOfJob, openSavepoint, SavepointWriter, type RawEntry, type StorageOptions } from '@stateshift/savepoint';

const SMALL = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const REPS = Math.max(5, Number(process.env.BENCH_REPS ?? 7));
const MAX_PARALLELISM = 128;
const CHUNK = 1 << 20;
const job = defineJob({ name: 'bench', maxParallelism: MAX_PARALLELISM, operators: [operator({ uid: 'op', key: string(), states: [valueState('v', int64())] })] });

const bytesOf = (write: (o: DataOutput) => void) => {
  const o = new DataOutput(32);
  write(o);
  return o.toBytes();
};
const empty = new Uint8Array(0);
/** `n` entries in key-group order, each key and value in its own array, allocated in that order. */
function makeEntries(n: number, valueSize: number): RawEntry[] {
  const order = Array.from({ length: n }, (_, i) => ({ i, keyGroup: keyGroupOf(bytesOf((o) => string().serialize(`user-${i}`, o)), MAX_PARALLELISM) }));
  order.sort((a, b) => a.keyGroup - b.keyGroup);
  const filler = new Uint8Array(Math.max(0, valueSize - 8)).fill(7);
  return order.map(({ i, keyGroup }) => ({
    state: 0,
    keyGroup,
    key: bytesOf((o) => string().serialize(`user-${i}`, o)),
    namespace: empty,
    mapKey: empty,
    version: 1,
    value: bytesOf((o) => {
      int64().serialize(BigInt(i), o);
      o.writeRaw(filler);
    }),
  }));
}

async function writeSavepoint(entries: RawEntry[], location: string, options: StorageOptions = {}): Promise<void> {
  const writer = await SavepointWriter.create(location, layoutOfJob(job), options);
  const file = await writer.openDataFile('op', { start: 0, end: MAX_PARALLELISM - 1 });
  for (const e of entries) {
    const waiting = file.append(e);
    if (waiting) await waiting;
  }
  await writer.closeDataFile(file);
  await writer.commit();
}

async function readSavepoint(n: number, location: string, options: StorageOptions = {}): Promise<void> {
  let read = 0;
  const sp = await openSavepoint(location, options);
  for await (const block of sp.blocks('op')) read += block.length;
  if (read !== n) throw new Error(`read ${read} of ${n} entries`);
}

function streamFile(path: string, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(path, { flush: true });
    stream.on('error', reject);
    for (let at = 0; at < bytes.length; at += CHUNK) stream.write(bytes.subarray(at, at + CHUNK));
    stream.end(resolve);
  });
}

/** The baseline: the same files, the same chunks, the same fsyncs and rename. */
async function writePlain(dir: string, files: { name: string; bytes: Uint8Array }[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const { name, bytes } of files) {
    if (name === '_metadata') {
      await streamFile(join(dir, '._metadata.tmp'), bytes);
      await rename(join(dir, '._metadata.tmp'), join(dir, name));
    } else {
      await streamFile(join(dir, name), bytes);
    }
  }
  const handle = await open(dir, 'r');
  await handle.sync();
  await handle.close();
}

/** A field's length and bytes, as a block holds them (small ones copied byte by byte, as the writer does). */
function putBytes(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  const n = bytes.length;
  pos = putVarUint(buf, pos, n);
  if (n <= 16) for (let i = 0; i < n; i++) buf[pos + i] = bytes[i];
  else buf.set(bytes, pos);
  return pos + n;
}

/**
 * The "entry bytes" baseline: each entry's fields (varints and bytes, as a block holds them) copied
 * by hand into 1 MiB chunks, each streamed as it fills: the per-entry work any writer of these
 * entries does, without blocks, checksums or index. It is the floor under the writer's cost.
 */
async function writeEntryBytes(dir: string, entries: RawEntry[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const stream = createWriteStream(join(dir, 'entries.bin'), { flush: true });
    stream.on('error', reject);
    let chunk = new Uint8Array(CHUNK);
    let pos = 0;
    for (const e of entries) {
      if (pos + 40 + e.key.length + e.namespace.length + e.mapKey.length + e.value.length > CHUNK) {
        stream.write(chunk.subarray(0, pos));
        chunk = new Uint8Array(CHUNK);
        pos = 0;
      }
      pos = putVarUint(chunk, pos, e.state);
      pos = putVarUint(chunk, pos, e.keyGroup);
      pos = putBytes(chunk, pos, e.key);
      pos = putBytes(chunk, pos, e.namespace);
      pos = putBytes(chunk, pos, e.mapKey);
      pos = putVarUint(chunk, pos, e.version);
      pos = putBytes(chunk, pos, e.value);
    }
    stream.end(chunk.subarray(0, pos), resolve);
  });
  const handle = await open(dir, 'r');
  await handle.sync();
  await handle.close();
}

async function readPlain(dir: string, names: string[]): Promise<void> {
  for (const name of names) for await (const chunk of createReadStream(join(dir, name), { highWaterMark: CHUNK })) void (chunk as Buffer).length;
}

async function time(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => x.toFixed(3);

async function startS3(): Promise<{ options: StorageOptions; close(): Promise<void> } | undefined> {
  try {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const { default: S3rver } = await import('s3rver');
    const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
    const directory = await mkdtemp(join(tmpdir(), 'stateshift-bench-s3-'));
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
    const { port } = (await server.run()) as unknown as { port: number };
    const s3 = { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } };
    const client = new S3Client(s3);
    await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    client.destroy();
    return {
      options: { s3 },
      async close() {
        await server.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  } catch (error) {
    console.log(`S3 rows skipped: ${(error as Error).message}`);
    return undefined;
  }
}

interface Measured {
  rows: ManualRow[];
  lines: string[];
}

async function scenario(root: string, label: string, entries: RawEntry[]): Promise<Measured> {
  const n = entries.length;
  await writeSavepoint(entries, join(root, 'first'));
  const names = ['op0-kg0-127.dat', '_metadata'];
  const files = await Promise.all(names.map(async (name) => ({ name, bytes: new Uint8Array(await readFile(join(root, 'first', name))) })));
  await rm(join(root, 'first'), { recursive: true, force: true });
  const totalBytes = files.reduce((sum, f) => sum + f.bytes.length, 0);
  const runs: { candidate: number; same: number; entry: number; read: number; readPlain: number }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const sp = join(root, `sp-${rep}`);
    const plain = join(root, `plain-${rep}`);
    const plainEntries = join(root, `entries-${rep}`);
    // Take turns, so no one always runs on the warmest cache.
    const steps = [
      async () => ({ candidate: await time(() => writeSavepoint(entries, sp)) }),
      async () => ({ same: await time(() => writePlain(plain, files)) }),
      async () => ({ entry: await time(() => writeEntryBytes(plainEntries, entries)) }),
    ];
    const got: Record<string, number> = {};
    for (let k = 0; k < steps.length; k++) Object.assign(got, await steps[(k + rep) % steps.length]());
    got.read = await time(() => readSavepoint(n, sp));
    got.readPlain = await time(() => readPlain(plain, names));
    runs.push(got as (typeof runs)[number]);
    if (process.env.BENCH_VERBOSE) console.log(label, rep, JSON.stringify(got));
    for (const d of [sp, plain, plainEntries]) await rm(d, { recursive: true, force: true });
  }
  const ratio = (base: (r: (typeof runs)[number]) => number, cand: (r: (typeof runs)[number]) => number) => {
    const xs = runs.map((r) => base(r) / cand(r));
    return `min ${fmt(Math.min(...xs))}x, median ${fmt(median(xs))}x`;
  };
  const group = `write ${n} ${label}`;
  return {
    rows: [
      { group, case: 'fs write streams, same bytes', seconds: median(runs.map((r) => r.same)), items: n, bytes: totalBytes, baseline: true },
      { group, case: 'fs write streams, entry bytes', seconds: median(runs.map((r) => r.entry)), items: n, bytes: totalBytes },
      { group, case: 'savepoint writer', seconds: median(runs.map((r) => r.candidate)), items: n, bytes: totalBytes, target: 0.5 },
      { group: `read ${n} ${label}`, case: 'fs read streams, no parsing', seconds: median(runs.map((r) => r.readPlain)), items: n, bytes: totalBytes, baseline: true },
      { group: `read ${n} ${label}`, case: 'savepoint reader (verified, parsed)', seconds: median(runs.map((r) => r.read)), items: n, bytes: totalBytes },
    ],
    lines: [
      `${label} (${(totalBytes / n).toFixed(0)} bytes/entry in the file), ${REPS} interleaved runs:`,
      `  writer vs fs streams of the same bytes:   ${ratio((r) => r.same, (r) => r.candidate)} (target 0.5x)`,
      `  writer vs fs streams of the entry bytes:  ${ratio((r) => r.entry, (r) => r.candidate)}`,
      `  entry bytes alone vs the same bytes:      ${ratio((r) => r.same, (r) => r.entry)}`,
      // Copying the entries takes (entry - same) before any write; a writer that overlapped every write with it would take no less.
      `  most any writer of these entries reaches: ${ratio((r) => r.same, (r) => Math.max(r.entry - r.same, r.same / 1000))} (same / (entry bytes - same))`,
      `  reader vs fs read streams, same bytes:    ${ratio((r) => r.readPlain, (r) => r.read)}`,
    ],
  };
}

const root = await mkdtemp(join(tmpdir(), 'stateshift-bench-'));
try {
  const small = makeEntries(SMALL, 8);
  const large = makeEntries(Math.max(1, Math.floor(SMALL / 5)), 200);
  const results = [await scenario(root, 'small entries', small), await scenario(root, 'entries with 200-byte values', large)];
  const rows = results.flatMap((r) => r.rows);
  const s3 = await startS3();
  if (s3) {
    try {
      for (const entries of [small, large]) {
        const s3Writes: number[] = [];
        const s3Reads: number[] = [];
        for (let rep = 0; rep < 5; rep++) {
          const location = `s3://bench/sp-${entries.length}-${rep}`;
          s3Writes.push(await time(() => writeSavepoint(entries, location, s3.options)));
          s3Reads.push(await time(() => readSavepoint(entries.length, location, s3.options)));
        }
        const bytes = rows.find((r) => r.items === entries.length)?.bytes;
        rows.push(
          { group: `write ${entries.length} entries to S3 (s3rver, loopback)`, case: 'savepoint writer', seconds: median(s3Writes), items: entries.length, bytes, baseline: true },
          { group: `read ${entries.length} entries from S3 (s3rver, loopback)`, case: 'savepoint reader (ranged GETs)', seconds: median(s3Reads), items: entries.length, bytes, baseline: true },
        );
      }
    } finally {
      await s3.close();
    }
  }
  reportManual('savepoint', rows);
  console.log('');
  for (const r of results) console.log(r.lines.join('\n'));
} finally {
  await rm(root, { recursive: true, force: true });
}
