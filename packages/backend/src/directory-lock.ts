/**
 * A backend's hold on its directory: a `LOCK` file made exclusively, naming the process that holds
 * it. A second backend on the directory, in this process or another, is refused with
 * BackendLockedError, so two writers never checkpoint over each other. A lock left behind by a
 * process that is gone is taken over when it was on this host (its pid can be checked); one from
 * another host cannot be checked, and the error says how to remove it.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BackendLockedError } from '@stateshift/core';
import { isRunning } from '@stateshift/savepoint';

const LOCK = 'LOCK';

interface Holder {
  pid: number;
  host: string;
  since: string;
}

/** Locks `dir` (made if missing) for one backend; the function returned lets it go. */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, LOCK);
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readHolder(path);
      if (attempt === 0 && holder && holder.host === me.host && !isRunning(holder.pid)) {
        await rm(path, { force: true });
        continue;
      }
      const who = holder ? `process ${holder.pid} on ${holder.host} since ${holder.since}` : 'a backend';
      const gone = holder?.host === me.host ? '' : ` If that process is gone, remove ${path} and open again.`;
      throw new BackendLockedError(`${dir} is open in another backend (${who}); close it first, or open another directory.${gone}`);
    }
  }
  let held = true;
  return async () => {
    if (!held) return;
    held = false;
    await rm(path, { force: true });
  };
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as Holder;
    return Number.isInteger(holder.pid) && typeof holder.host === 'string' ? holder : undefined;
  } catch {
    // Gone since, or being written: treated as held.
    return undefined;
  }
}
