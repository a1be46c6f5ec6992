/**
 * Checkpoints kept as savepoints in a directory, `CURRENT` naming the last one: how a backend whose
 * state lives in memory survives a restart (the heap backend, and the reference backend of the
 * tests). A checkpoint counts once `CURRENT` names it; the one before it is removed after that.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RestoreError } from '@stateshift/core';
import { writeFileAtomically } from '@stateshift/savepoint';

const CURRENT = 'CURRENT';
let taken = 0;

/** The name of the last checkpoint in `dir` (a directory in it), if there is one. */
export async function currentCheckpoint(dir: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await readFile(join(dir, CURRENT))).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Takes a checkpoint in `dir`: `writeSavepoint(location)` writes it as a savepoint at a new location
 * in `dir`, `CURRENT` is switched to it atomically, then the previous checkpoint is removed.
 */
export async function checkpointInDir(dir: string, writeSavepoint: (location: string) => Promise<unknown>): Promise<void> {
  const previous = await currentCheckpoint(dir);
  const name = `checkpoint-${Date.now()}-${++taken}`;
  await writeSavepoint(join(dir, name));
  await writeFileAtomically(dir, CURRENT, new TextEncoder().encode(name));
  if (previous) await rm(join(dir, previous), { recursive: true, force: true });
}

/** Where an opening backend restores from: `restoreFrom`, else the last checkpoint in `dir`; both at once is refused. */
export async function restoreSource(options: { dir?: string; restoreFrom?: string }): Promise<string | undefined> {
  const checkpoint = options.dir ? await currentCheckpoint(options.dir) : undefined;
  if (checkpoint && options.restoreFrom) {
    throw new RestoreError(`${options.dir} already holds checkpointed state; restore a savepoint into an empty directory, or reopen without restoreFrom`);
  }
  return options.restoreFrom ?? (checkpoint ? join(options.dir!, checkpoint) : undefined);
}
