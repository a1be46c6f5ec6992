/**
 * Opening what a command is pointed at: a savepoint (with the adapters its snapshots name loaded
 * first), or for `check`, an LSM database directory. A path that is neither is reported as what it
 * is, never as a corrupt savepoint.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StorageOptions } from '@stateshift/core';
import { decodeMetadata, encodeMetadata, METADATA_FILE, openSavepoint, Savepoint, storageFor } from '@stateshift/savepoint';
import { loadAdapters } from './adapters.js';
import { NotASavepointError, UsageError } from './errors.js';
import { isObjectStore } from './flags.js';
import { safe } from './text.js';

const LSM_FILES = ['CURRENT', 'LOCK'];

/** Why `dir` (a directory or an `s3://` location) is not a savepoint, or undefined when it has a `_metadata` file. */
export async function notASavepoint(dir: string, options: StorageOptions = {}): Promise<string | undefined> {
  const shown = safe(dir);
  // Refuses a scheme no savepoint can be stored in (gs://, http://) as such, not as a missing directory.
  const storage = storageFor(dir, options);
  if (isObjectStore(dir)) {
    if ((await storage.list()).some((o) => o.name === METADATA_FILE)) return undefined;
    return `${shown} is not a savepoint: ${safe(await storage.describe())}`;
  }
  const local = /^file:/i.test(dir) ? fileURLToPath(dir) : dir;
  const info = await stat(local).catch(() => undefined);
  if (!info) return `${shown} does not exist`;
  if (!info.isDirectory()) return `${shown} is a file, not a savepoint (a savepoint is a directory holding ${METADATA_FILE} and data files)`;
  const names = await readdir(local);
  if (names.includes(METADATA_FILE)) return undefined;
  if (LSM_FILES.every((n) => names.includes(n))) {
    return `${shown} is an LSM database directory (@stateshift/backend-lsm), not a savepoint: \`check\` reads it as it is; take a savepoint of it (backend.savepoint(dir)) for the other commands`;
  }
  const found = names.length ? `it holds ${names.slice(0, 5).map((n) => safe(n)).join(', ')}${names.length > 5 ? `, and ${names.length - 5} more` : ''}` : 'it is empty';
  return `${shown} has no ${METADATA_FILE}, so it is not a savepoint (or one whose writing never finished); ${found}`;
}

/** Opens the savepoint in `dir` (a directory or an `s3://` location), loading the adapters its snapshots name. */
export async function openForCli(dir: string, options: StorageOptions = {}): Promise<Savepoint> {
  const why = await notASavepoint(dir, options);
  if (why) throw new NotASavepointError(why);
  let savepoint = await openSavepoint(dir, options);
  if (await loadAdapters(savepoint.metadata)) savepoint = await openSavepoint(dir, options);
  return savepoint;
}

export async function isLsmDirectory(dir: string): Promise<boolean> {
  if (isObjectStore(dir)) return false;
  const names = await readdir(dir).catch(() => [] as string[]);
  return !names.includes(METADATA_FILE) && LSM_FILES.every((n) => names.includes(n));
}

/**
 * The layout an LSM database holds (its local metadata), as a savepoint without data files, for
 * the in-place upgrade dry-run. The database must not be open in a running job.
 */
export async function openLsmLayout(dir: string): Promise<Savepoint> {
  // Loaded here, not at start-up: they take every other command a third of its start.
  const [{ ClassicLevel }, { loadMetadata }] = await Promise.all([import('classic-level'), import('@stateshift/backend-lsm')]);
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false });
  try {
    await db.open();
  } catch (error) {
    const locked = /lock/i.test(String((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message));
    throw new UsageError(
      locked
        ? `cannot open the LSM database ${safe(dir)}: a running job holds it; stop the job, or check a savepoint of it`
        : `cannot open the LSM database ${safe(dir)}: ${(error as Error).message}`,
    );
  }
  try {
    const local = await loadMetadata(db, dir);
    if (!local) throw new UsageError(`${safe(dir)} is a LevelDB database without stateshift metadata: it was not written by @stateshift/backend-lsm`);
    let metadata = local.layout;
    if (await loadAdapters(metadata)) metadata = decodeMetadata(encodeMetadata(metadata), `${dir} (local metadata)`);
    return new Savepoint(path.resolve(dir), { ...metadata, files: [] });
  } finally {
    await db.close();
  }
}
