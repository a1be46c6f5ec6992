/**
 * Savepoint locations on the command line: directories, or `s3://bucket/prefix` URLs reached with
 * the `--s3-*` flags every command takes (credentials come from the AWS SDK's standard chain).
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { SavepointStorageError, type StorageOptions } from '@stateshift/core';
import { isRunning, LOCK_FILE, METADATA_FILE, parseS3Url, storageFor, writerLockHolder } from '@stateshift/savepoint';
import { UsageError } from './errors.js';
import { isObjectStore } from './flags.js';
import { safe } from './text.js';

function inside(out: string, src: string): boolean {
  if (isObjectStore(out) !== isObjectStore(src)) return false;
  if (isObjectStore(out)) {
    const a = parseS3Url(out);
    const b = parseS3Url(src);
    return a.bucket === b.bucket && (b.prefix === '' || a.prefix === b.prefix || a.prefix.startsWith(`${b.prefix}/`));
  }
  const rel = path.relative(path.resolve(src), path.resolve(out));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Refuses an output location that is a source or inside one. */
export function checkOutside(out: string, sources: string[]): void {
  for (const src of sources) {
    if (inside(out, src)) throw new UsageError(`--out ${safe(out)} is inside the source savepoint ${safe(src)}; write the new savepoint somewhere else`);
  }
}

/** Names an unfinished writer leaves (see @stateshift/savepoint's format): its lock, data files (merge's `m<i>-` copies too), a temporary `_metadata`. */
const DATA_FILE = /^(m\d+-)?op\d+-kg\d+-\d+(-[A-Za-z0-9_]+)?\.dat$/;
const WRITER_FILE = (name: string) => name === LOCK_FILE || DATA_FILE.test(name) || name.startsWith(`.${METADATA_FILE}.tmp-`);

/**
 * `--replace`: removes what a writer that never committed left at `location` (a process killed
 * midway), so the same output can be written again. A committed savepoint (`_metadata`) is never
 * removed, nor a location holding anything a savepoint writer does not write, nor one whose lock
 * is held by a process still running on this host (one on another host cannot be checked).
 * Returns how many objects it removed.
 */
export async function removeUnfinished(location: string, options: StorageOptions): Promise<number> {
  const storage = storageFor(location, options);
  const names = (await storage.list({ all: true })).map((o) => o.name);
  if (names.includes(METADATA_FILE)) {
    throw new UsageError(`--out ${safe(location)} holds a committed savepoint (${METADATA_FILE}); --replace only removes unfinished output: choose another --out, or remove it yourself`);
  }
  const foreign = names.filter((n) => !WRITER_FILE(n));
  if (foreign.length) {
    throw new UsageError(
      `--out ${safe(location)} holds ${foreign.slice(0, 3).map((n) => safe(n)).join(', ')}${foreign.length > 3 ? ` and ${foreign.length - 3} more` : ''}, which no savepoint writer wrote; --replace leaves it alone: choose another --out`,
    );
  }
  const holder = names.includes(LOCK_FILE) ? await writerLockHolder(storage) : undefined;
  if (holder && holder.host === hostname() && isRunning(holder.pid)) {
    throw new UsageError(
      `--out ${safe(location)} is being written by process ${holder.pid} on this host (since ${safe(holder.since)}; it holds ${safe(storage.objectPath(LOCK_FILE))}), which is still running; ` +
        `--replace only removes what a writer that is gone left: wait for that process to finish, or stop it (kill ${holder.pid}) and run again with --replace. ` +
        `If process ${holder.pid} is not a stateshift writer (its pid was reused), remove ${safe(storage.objectPath(LOCK_FILE))} and run again`,
    );
  }
  // The lock last: until it goes, no other writer starts here.
  for (const name of names.filter((n) => n !== LOCK_FILE)) await storage.remove(name);
  if (names.includes(LOCK_FILE)) await storage.remove(LOCK_FILE);
  return names.length;
}

/** A writer refused because another holds the location's lock: says how a killed run is run again. */
export function withReplaceHint(error: unknown, command: string): unknown {
  if (error instanceof SavepointStorageError && error.reason === 'in-use') {
    return new UsageError(`${error.message}. A ${command} killed midway is run again with --replace, which removes its unfinished output first`);
  }
  return error;
}
