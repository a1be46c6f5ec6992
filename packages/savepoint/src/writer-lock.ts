/**
 * The `_lock` a savepoint writer holds while it writes: made exclusively, it names the process
 * (pid, host, start time), so a tool that finds an unfinished savepoint can tell a writer still at
 * work from one that is gone.
 */
import { hostname } from 'node:os';
import { LOCK_FILE } from './format.js';
import type { SavepointStorage } from './storage/storage.js';

export interface WriterLockHolder {
  pid: number;
  host: string;
  since: string;
}

/** What this process's writer puts in `_lock`. */
export function writerLockText(): string {
  return `stateshift savepoint writer: pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}`;
}

/** The writer named by the `_lock` at `storage`, if there is one and it names one. */
export async function writerLockHolder(storage: SavepointStorage): Promise<WriterLockHolder | undefined> {
  const handle = await storage.open(LOCK_FILE);
  if (!handle) return undefined;
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of handle.read(0, Math.min(handle.size, 1024))) chunks.push(chunk);
  } finally {
    await handle.close();
  }
  const found = /pid (\d+) on (\S+) since (\S+)/.exec(Buffer.concat(chunks).toString('utf8'));
  return found ? { pid: Number(found[1]), host: found[2], since: found[3] } : undefined;
}

/** Whether process `pid` runs on this host (signal 0 is only checked, never sent; EPERM: it runs as another user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
