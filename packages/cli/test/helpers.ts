import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import type { SavepointOptions } from '@stateshift/core';
import { openHeapBackend } from '@stateshift/backend-heap';
import { main, type Io } from '../src/index.js';
import { loadJob } from '../src/load-job.js';

export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stateshift-cli-'));
  dirs.push(dir);
  return dir;
}

/** Runs the CLI in-process with captured, non-terminal output. */
export async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { out: (t) => void (stdout += t), err: (t) => void (stderr += t), tty: false, errTty: false, color: false };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** A savepoint of the orders fixture job with `users` users, at `location` (default: a new directory). */
export async function ordersSavepoint(users = 200, location?: string, options?: SavepointOptions): Promise<string> {
  const job = await loadJob(fixture('orders.mjs'));
  const backend = await openHeapBackend({ job });
  const op = backend.operator<string>('orders-per-user');
  for (let i = 0; i < users; i++) {
    await op.value('count').set(`user-${i}`, BigInt(i));
    await op.value('last-order').set(`user-${i}`, { orderId: `o-${i}`, userId: `user-${i}`, createTs: BigInt(i) });
  }
  const dir = location ?? join(await tempDir(), 'savepoint');
  await backend.savepoint(dir, options);
  await backend.close();
  return dir;
}
