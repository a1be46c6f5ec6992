// Processes killed with SIGKILL at random moments, then reopened: the state is always a whole
// checkpoint (or a whole restore), never part of one.
import { fork, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { RestoreError } from '@stateshift/core';
import { openHeapBackend } from '@stateshift/backend-heap';
import { openLsmBackend } from '../src/index.js';
// @ts-expect-error a plain ESM fixture shared with the child process
import { apply, consumerJob, eventsIn, handlesOf, restoreJob } from './fixtures/child.mjs';

const CHILD = fileURLToPath(new URL('./fixtures/child.mjs', import.meta.url));
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stateshift-crash-'));
  dirs.push(dir);
  return dir;
}

/** Runs the child; kills it `delay` ms after its first message (undefined: lets it finish). Resolves whether it finished. */
function run(args: string[], delay: number | undefined): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let finished = false;
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('message', () => {
      if (delay !== undefined) setTimeout(() => child.kill('SIGKILL'), delay);
    });
    child.on('message', (m) => {
      if ((m as { finished?: boolean }).finished) finished = true;
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(finished);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

/** A deterministic random sequence, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

test('a consumer SIGKILLed 50 times resumes from its checkpointed position each time and ends with the state of a run that never crashed', async () => {
  const EVENTS = 20_000;
  const dir = join(await tempDir(), 'db');
  const next = random(16);
  let kills = 0;
  // Small checkpoint interval and write buffer: kills land between checkpoints and after uncommitted flushes.
  for (;;) {
    const delay = kills < 50 ? 5 + Math.floor(next() * 40) : undefined;
    const finished = await run(['consume', dir, String(EVENTS), '250', '64'], delay);
    if (finished) break;
    kills++;
  }
  expect(kills).toBeGreaterThanOrEqual(50);

  const crashed = await openLsmBackend({ job: consumerJob, dir });
  expect(eventsIn(crashed.position)).toBe(EVENTS);
  const reference = await openHeapBackend({ job: consumerJob });
  const expected = handlesOf(reference);
  for (let i = 0; i < EVENTS; i++) apply(expected, i);
  const actual = handlesOf(crashed);
  for (let k = 0; k < 37; k++) {
    const key = `k${k}`;
    expect(actual.count.get(key)).toBe(expected.count.get(key));
    expect(actual.recent.get(key)).toEqual(expected.recent.get(key));
    for (let b = 0; b < 5; b++) expect(actual.byBucket.get(key, `m${b}`)).toBe(expected.byBucket.get(key, `m${b}`));
  }
  await crashed.close();
  await reference.close();
}, 240_000);

test('restores SIGKILLed at random moments (eager, lazy and in place): every reopen gives the whole restored state or a RestoreError naming the savepoint', async () => {
  const root = await tempDir();
  const savepoint = join(root, 'sp');
  const KEYS = 6000;
  await run(['seed', join(root, 'seed'), savepoint, String(KEYS)], undefined);
  const next = random(7);
  let kills = 0;
  const killed = { eager: 0, lazy: 0, 'in-place': 0 };
  const modes = ['eager', 'lazy', 'in-place'] as const;
  for (let round = 0; (killed.eager < 25 || killed.lazy < 25 || killed['in-place'] < 10) && round < 300; round++) {
    const mode = modes[round % 3];
    const dir = join(root, `db-${round}`);
    const finished = await run(['restore', dir, savepoint, mode], Math.floor(next() * 120));
    if (!finished) {
      kills++;
      killed[mode]++;
    }
    // Killed before the restore began (no directory yet): nothing to check.
    if (!existsSync(dir)) continue;
    const migration = mode === 'eager' ? 'eager' : 'lazy';
    const reopened = await openLsmBackend({ job: restoreJob(), dir, migration }).catch((e: Error) => e);
    if (reopened instanceof Error) {
      expect(reopened).toBeInstanceOf(RestoreError);
      expect(reopened.message).toContain(savepoint);
      // Restoring again into the same directory starts over and gives the whole state.
      const again = await openLsmBackend({ job: restoreJob(), dir, restoreFrom: savepoint, migration, restore: mode === 'in-place' ? 'in-place' : 'copy' });
      await checkWhole(again);
      continue;
    }
    await checkWhole(reopened);
  }
  expect(kills).toBeGreaterThanOrEqual(50);
  expect(killed.eager).toBeGreaterThanOrEqual(25);
  expect(killed.lazy).toBeGreaterThanOrEqual(25);

  async function checkWhole(backend: Awaited<ReturnType<typeof openLsmBackend>>): Promise<void> {
    const op = backend.operator('op');
    let keys = 0;
    for await (const _ of op.keys('v')) keys++;
    expect(keys).toBe(KEYS);
    for (let i = 0; i < KEYS; i += 397) {
      expect(op.value('v').get(`k${i}`)).toBe(BigInt(i));
      expect(op.list('l').get(`k${i}`)).toEqual([`a${i}`, `b${i}`, `c${i}`]);
      expect(op.map('m').get(`k${i}`, 'x')).toBe(i);
    }
    await backend.close();
  }
}, 300_000);

test('a restore removes the staging directories beside its directory that killed restores left, and only those', async () => {
  const root = await tempDir();
  const savepoint = join(root, 'sp');
  await run(['seed', join(root, 'seed'), savepoint, '10'], undefined);
  const dir = join(root, 'db');
  // A process that has ended, and one that still runs (this one's parent).
  const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
  const abandoned = join(root, `db.restoring-${gone}-1`);
  const live = join(root, `db.restoring-${process.ppid}-2`);
  for (const d of [abandoned, live]) {
    await mkdir(d);
    await writeFile(join(d, 'RESTORING'), savepoint);
  }
  const backend = await openLsmBackend({ job: restoreJob(), dir, restoreFrom: savepoint });
  await backend.close();
  expect(existsSync(abandoned)).toBe(false);
  expect(existsSync(live)).toBe(true);
});
