import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { DataOutput, defineJob, int64, keyGroupOf, operator, string, valueState, listState, mapState, int32, type JobDeclaration, type Serializer, type StateDescriptor } from '@stateshift/core';
import { SavepointWriter, layoutOfJob, type RawEntry } from '../src/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stateshift-savepoint-'));
  dirs.push(dir);
  return dir;
}

/** The counts job, with another declaration of its `count` state or its map's values where given (a later version). */
export function countsJob(count: StateDescriptor = valueState('count', int64()), byDayValues: Serializer<number | bigint> = int32()): JobDeclaration {
  return defineJob({
    name: 'counts',
    maxParallelism: 8,
    operators: [operator({ uid: 'counter', key: string(), states: [count, listState('events', string()), mapState('byDay', string(), byDayValues)] })],
  });
}

export const counts = countsJob();

function bytesOf(write: (out: DataOutput) => void): Uint8Array {
  const out = new DataOutput();
  write(out);
  return out.toBytes();
}

/** Entries for `n` users: a count, two events and one map entry each, sorted by key group. */
export function sampleEntries(n: number, maxParallelism = 8): RawEntry[] {
  const entries: RawEntry[] = [];
  const empty = new Uint8Array();
  for (let i = 0; i < n; i++) {
    const key = bytesOf((o) => string().serialize(`user-${i}`, o));
    const keyGroup = keyGroupOf(key, maxParallelism);
    entries.push({ state: 0, keyGroup, key, namespace: empty, mapKey: empty, version: 1, value: bytesOf((o) => int64().serialize(BigInt(i), o)) });
    for (const e of ['open', 'close']) {
      entries.push({ state: 1, keyGroup, key, namespace: empty, mapKey: empty, version: 1, value: bytesOf((o) => string().serialize(`${e}-${i}`, o)) });
    }
    entries.push({
      state: 2,
      keyGroup,
      key,
      namespace: empty,
      mapKey: bytesOf((o) => string().serialize('mon', o)),
      version: 1,
      value: bytesOf((o) => int32().serialize(i, o)),
    });
  }
  return entries.sort((a, b) => a.keyGroup - b.keyGroup);
}

/** Writes a savepoint of `counts` with the entries split in two key-group ranges. */
export async function writeSample(dir: string, entries = sampleEntries(50)): Promise<void> {
  const writer = await SavepointWriter.create(dir, layoutOfJob(counts));
  for (const range of [{ start: 0, end: 3 }, { start: 4, end: 7 }]) {
    const file = await writer.openDataFile('counter', range);
    for (const e of entries.filter((x) => x.keyGroup >= range.start && x.keyGroup <= range.end)) await file.append(e);
    await writer.closeDataFile(file);
  }
  await writer.commit();
}

/** A job with every state type and a namespaced operator: the golden and corruption savepoints. */
export const sessions = defineJob({
  name: 'sessions',
  maxParallelism: 8,
  operators: [
    operator({
      uid: 'counter',
      key: string(),
      states: [valueState('count', int64()), listState('events', string()), mapState('byDay', string(), int32())],
    }),
    operator({ uid: 'windows', key: string(), namespace: int32(), states: [valueState('last', string()), listState('clicks', int64())] }),
  ],
});

/** Entries of `sessions` for `n` users, per operator, sorted by key group. */
export function sessionEntries(n: number): { uid: string; entries: RawEntry[] }[] {
  const empty = new Uint8Array();
  const windows: RawEntry[] = [];
  for (let i = 0; i < n; i++) {
    const key = bytesOf((o) => string().serialize(`user-${i}`, o));
    const keyGroup = keyGroupOf(key, 8);
    for (const window of [i, i + 100]) {
      const namespace = bytesOf((o) => int32().serialize(window, o));
      windows.push({ state: 0, keyGroup, key, namespace, mapKey: empty, version: 1, value: bytesOf((o) => string().serialize(`page-${i}-${window}`, o)) });
      for (const click of [1n, 2n]) windows.push({ state: 1, keyGroup, key, namespace, mapKey: empty, version: 1, value: bytesOf((o) => int64().serialize(click * BigInt(window), o)) });
    }
  }
  return [
    { uid: 'counter', entries: sampleEntries(n) },
    { uid: 'windows', entries: windows.sort((a, b) => a.keyGroup - b.keyGroup) },
  ];
}

export { encodeEntries } from '../src/testing/index.js';
