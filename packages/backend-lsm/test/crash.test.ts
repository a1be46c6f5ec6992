// Processes killed with SIGKILL at the worst moments, then reopened.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { CorruptSavepointError } from '@stateshift/core';
import { openSavepoint } from '@stateshift/savepoint';
import { openLsmBackend } from '../src/index.js';
// @ts-expect-error a plain ESM fixture shared with the child process
import { jobV1, jobV2 } from './fixtures/child.mjs';

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

/** Runs the child until `until(message)` is true, then kills it with SIGKILL. Returns every message. */
function runUntilKilled(args: string[], until: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const messages: Record<string, unknown>[] = [];
    const child: ChildProcess = fork(CHILD, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('message', (m) => {
      messages.push(m as Record<string, unknown>);
      if (until(m as Record<string, unknown>)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(messages) : reject(new Error(`child exited with ${code} before it was killed: ${stderr}`))));
  });
}

async function seed(dir: string, n: number): Promise<string> {
  const backend = await openLsmBackend({ job: jobV1, dir: join(dir, 'db-v1') });
  const v = backend.operator<string>('op').value<number>('v');
  for (let i = 0; i < n; i++) await v.set(`k${i}`, i);
  const savepoint = join(dir, 'savepoint');
  await backend.savepoint(savepoint);
  await backend.close();
  return savepoint;
}

test('killed during writes: every acknowledged write is there after reopening', async () => {
  const dir = await tempDir();
  const messages = await runUntilKilled(['write', join(dir, 'db')], (m) => (m.acked as number) >= 2000);
  const acked = Math.max(...messages.map((m) => m.acked as number));
  const backend = await openLsmBackend({ job: jobV1, dir: join(dir, 'db') });
  const v = backend.operator<string>('op').value<number>('v');
  for (let i = 0; i <= acked; i++) expect(await v.get(`k${i}`)).toBe(i);
  await backend.close();
});

test('killed during an eager migration: reopening finishes it, no entry lost or converted twice', async () => {
  const dir = await tempDir();
  const n = 20_000;
  const savepoint = await seed(dir, n);
  const db = join(dir, 'db-v2');
  const messages = await runUntilKilled(['migrate', db, savepoint], (m) => typeof m.done === 'number' && (m.done as number) >= 3000);
  expect(messages.some((m) => m.finished)).toBe(false);
  const progress: number[] = [];
  const backend = await openLsmBackend({ job: jobV2, dir: db, migration: 'eager', onProgress: (p) => progress.push(p.total) });
  // The reopened pass had less than everything left to do: finished batches were not redone.
  expect(progress[0]).toBeLessThan(n);
  const v = backend.operator<string>('op').value<bigint>('v');
  for (let i = 0; i < n; i += 97) expect(await v.get(`k${i}`)).toBe(BigInt(i) + 1000n);
  const keys: string[] = [];
  for await (const { key } of backend.operator<string>('op').keys('v')) keys.push(key);
  expect(keys).toHaveLength(n);
  // All converted: the old version is retired from the metadata.
  expect(backend.meta.layout.operators[0].states[0].versions).toHaveLength(1);
  await backend.close();
});

test('killed during a savepoint: the partial directory is never taken for a savepoint', async () => {
  const dir = await tempDir();
  await seed(dir, 30_000);
  const out = join(dir, 'partial');
  await runUntilKilled(['savepoint', join(dir, 'db-v1'), out], (m) => !!m.started);
  await expect(openSavepoint(out)).rejects.toThrow(CorruptSavepointError);
});
