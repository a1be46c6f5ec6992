// Processes killed with SIGKILL at random moments, then reopened.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { RestoreError, type JobDeclaration, type ListStateHandle, type ValueStateHandle } from '@stateshift/core';
import { openLsmBackend } from '../src/index.js';
// @ts-expect-error a plain ESM fixture shared with the child process
import { consumerJob, handlesOf, KEYS, restoreJobV1, restoreJobV2 } from './fixtures/child.mjs';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/child.mjs', import.meta.url));
type Message = Record<string, unknown>;

/**
 * Runs the child; once `armed(message)` is true, kills it with SIGKILL after `delay` ms. Resolves
 * with whether it was killed (false: it finished first) and its messages.
 */
function run(args: string[], armed: (m: Message) => boolean, delay: number): Promise<{ killed: boolean; messages: Message[] }> {
  return new Promise((resolve, reject) => {
    const messages: Message[] = [];
    const child = fork(CHILD, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('message', (m) => {
      messages.push(m as Message);
      if (!timer && armed(m as Message)) timer = setTimeout(() => child.kill('SIGKILL'), delay);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve({ killed: true, messages });
      else if (code === 0) resolve({ killed: false, messages });
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

/** Every key's state, read through a backend. */
async function stateOf(dir: string) {
  const backend = await openLsmBackend({ job: consumerJob, dir });
  const h = handlesOf(backend);
  const state: unknown[] = [];
  for (let k = 0; k < KEYS; k++) {
    const key = `k${k}`;
    const seen: unknown[] = [];
    for await (const e of h.seen.entries(key)) seen.push(e);
    state.push([key, h.count.get(key), h.last.get(key), seen]);
  }
  const position = new TextDecoder().decode(backend.position);
  await backend.close();
  return { state, position };
}

test('a consumer killed at random moments 50 times resumes from its checkpoint: the final state equals a run that never crashed', async () => {
  const base = await tempDir();
  const events = 12_000;
  const dir = join(base, 'crashed');
  let kills = 0;
  let position = 0;
  for (let attempt = 0; ; attempt++) {
    // Killed at a random moment after the consumer has opened (up to ~30 ms of processing).
    const { killed, messages } = await run(['consume', dir, String(events)], (m) => m.opened !== undefined, kills < 50 ? Math.random() * 30 : 60_000);
    const opened = messages.find((m) => m.opened !== undefined)?.opened as number | undefined;
    // Each reopen resumes at or after the position the previous one resumed at: nothing goes back.
    if (opened !== undefined) {
      expect(opened).toBeGreaterThanOrEqual(position);
      position = opened;
    }
    if (killed) kills++;
    else break;
    expect(attempt).toBeLessThan(500);
  }
  expect(kills).toBeGreaterThanOrEqual(50);
  const clean = join(base, 'clean');
  expect((await run(['consume', clean, String(events)], () => false, 0)).killed).toBe(false);
  const crashed = await stateOf(dir);
  const reference = await stateOf(clean);
  expect(crashed.position).toBe(String(events));
  expect(crashed.state).toEqual(reference.state);
}, 180_000);

test('a restore killed at random moments 50 times (eager and lazy) reopens complete or refuses with the savepoint to restore again; restoring again starts clean', async () => {
  const base = await tempDir();
  const n = 4000;
  const seed = await openLsmBackend({ job: restoreJobV1 as JobDeclaration, dir: join(base, 'seed') });
  const op = seed.operator('op') as unknown as { value(s: 'v'): ValueStateHandle<string, number>; list(s: 'l'): ListStateHandle<string, number> };
  for (let i = 0; i < n; i++) {
    op.value('v').set(`k${i}`, i);
    op.list('l').addAll(`k${i}`, [i, i + 1, i + 2]);
  }
  const savepoint = join(base, 'sp');
  await seed.savepoint(savepoint);
  await seed.close();

  const check = async (dir: string, mode: string) => {
    const backend = await openLsmBackend({ job: restoreJobV2, dir, migration: mode as 'eager' });
    const h = backend.operator('op');
    for (let i = 0; i < n; i++) {
      expect(h.value('v').get(`k${i}`)).toBe(BigInt(i));
      expect(h.list('l').get(`k${i}`)).toEqual([i, i + 1, i + 2]);
    }
    await backend.close();
  };

  let kills = 0;
  let refused = 0;
  let complete = 0;
  let dir = join(base, 'db-0');
  for (let attempt = 0; kills < 50; attempt++) {
    const mode = attempt % 2 ? 'lazy' : 'eager';
    const { killed } = await run(['restore', dir, savepoint, mode], (m) => m.done !== undefined, Math.random() * 40);
    if (killed) kills++;
    // Reopening without restoreFrom: the whole restored state, or a RestoreError naming the savepoint.
    try {
      await check(dir, mode);
      complete++;
      dir = join(base, `db-${attempt + 1}`);
    } catch (error) {
      expect(error).toBeInstanceOf(RestoreError);
      expect((error as Error).message).toContain(savepoint);
      refused++;
    }
    expect(attempt).toBeLessThan(300);
  }
  expect(refused).toBeGreaterThan(0);
  // The last interrupted directory, restored again in this process: complete, no element twice.
  const again = await openLsmBackend({ job: restoreJobV2, dir, restoreFrom: savepoint });
  await again.close();
  await check(dir, 'eager');
  expect(complete + refused).toBeGreaterThanOrEqual(50);
}, 180_000);
