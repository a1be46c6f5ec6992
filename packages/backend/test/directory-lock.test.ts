import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { BackendLockedError } from '@stateshift/core';
import { lockDirectory } from '../src/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stateshift-lock-'));
  dirs.push(dir);
  return dir;
}

test('a locked directory is refused, naming the holder, until the lock is let go', async () => {
  const dir = await tempDir();
  const unlock = await lockDirectory(dir);
  const refused = await lockDirectory(dir).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(BackendLockedError);
  expect((refused as Error).message).toMatch(new RegExp(`is open in another backend \\(process ${process.pid} on ${hostname()} since .*\\); close it first, or open another directory\\.$`));
  await unlock();
  await unlock();
  const again = await lockDirectory(dir);
  await again();
});

test('a lock left by a process that is gone, on this host, is taken over', async () => {
  const dir = await tempDir();
  // The pid of a process that has ended.
  const pid = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }));
  await writeFile(join(dir, 'LOCK'), JSON.stringify({ pid, host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
  const unlock = await lockDirectory(dir);
  expect(JSON.parse(await readFile(join(dir, 'LOCK'), 'utf8')).pid).toBe(process.pid);
  await unlock();
});

test('a lock of another host is not taken over: the error says how to remove it', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'LOCK'), JSON.stringify({ pid: 1, host: 'elsewhere', since: '2026-01-01T00:00:00.000Z' }));
  await expect(lockDirectory(dir)).rejects.toThrow(`${dir} is open in another backend (process 1 on elsewhere since 2026-01-01T00:00:00.000Z); close it first, or open another directory. If that process is gone, remove ${join(dir, 'LOCK')} and open again.`);
  expect(JSON.parse(await readFile(join(dir, 'LOCK'), 'utf8')).host).toBe('elsewhere');
});
