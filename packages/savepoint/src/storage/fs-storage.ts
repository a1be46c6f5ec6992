/**
 * A savepoint in a directory of the local file system. Objects are opened without following links
 * (O_NOFOLLOW) and without blocking (O_NONBLOCK, so a FIFO cannot hang a reader), then checked to be
 * regular files; a commit is a temporary file, fsync, rename and fsync of the directory.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, rmdir, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CorruptSavepointError, SavepointStorageError } from '@stateshift/core';
import {
  checkPlainName,
  guessWhat,
  listNames,
  type ObjectHandle,
  type ObjectSink,
  type SavepointStorage,
  type SyncObjectReader,
  type SyncObjectSource,
} from './storage.js';

/** Reads are made in chunks of this size. */
const READ_CHUNK = 1 << 20;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export class FileSystemStorage implements SavepointStorage {
  /** The directory this storage created (removed again by `removeLocation` if left empty). */
  private created = false;

  constructor(readonly location: string) {
    if (typeof location !== 'string' || !location) throw new TypeError('a savepoint directory must be a non-empty path');
  }

  objectPath(name: string): string {
    return join(this.location, name);
  }

  async list(options: { all?: boolean } = {}): Promise<{ name: string; size: number }[]> {
    let names: string[];
    try {
      names = await readdir(this.location);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const out: { name: string; size: number }[] = [];
    for (const name of names.sort()) {
      const stats = await lstat(join(this.location, name)).catch(() => undefined);
      if (stats?.isFile()) out.push({ name, size: stats.size });
      else if (options.all) out.push({ name: stats?.isDirectory() ? `${name}/` : name, size: 0 });
    }
    return out;
  }

  async open(name: string): Promise<ObjectHandle | undefined> {
    checkPlainName(name);
    const path = this.objectPath(name);
    let handle: FileHandle;
    try {
      handle = await open(path, READ_FLAGS);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.openFailed(error, name);
    }
    try {
      const stats = await handle.stat();
      checkRegular(stats, path);
      return new FileHandleReader(handle, stats.size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Plain synchronous reads (`readSync`) of files opened as `open` opens them. */
  async openSyncSource(): Promise<SyncObjectSource> {
    return {
      openSync: (name) => {
        checkPlainName(name);
        const path = this.objectPath(name);
        let fd: number;
        try {
          fd = openSync(path, READ_FLAGS);
        } catch (error) {
          if (isMissing(error)) return undefined;
          throw this.openFailed(error, name);
        }
        try {
          const stats = fstatSync(fd);
          checkRegular(stats, path);
          return new FdReader(fd, stats.size);
        } catch (error) {
          closeSync(fd);
          throw error;
        }
      },
      close: () => undefined,
    };
  }

  /** Why an object could not be opened: a link is a corrupt savepoint, the rest storage errors. */
  private openFailed(error: unknown, name: string): unknown {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return new CorruptSavepointError('is a symbolic link; a savepoint holds regular files only', this.objectPath(name));
    return this.failed(error, `read ${name}`);
  }

  async create(name: string): Promise<ObjectSink> {
    checkPlainName(name);
    const handle = await open(this.objectPath(name), CREATE_FLAGS, 0o644).catch((error: unknown) => Promise.reject(this.failed(error, `create ${name}`)));
    return new FileSink(handle, this.objectPath(name));
  }

  async commit(name: string, bytes: Uint8Array): Promise<void> {
    checkPlainName(name);
    await writeFileAtomically(this.location, name, bytes);
  }

  async createExclusive(name: string, bytes: Uint8Array): Promise<boolean> {
    checkPlainName(name);
    try {
      const made = await mkdir(this.location, { recursive: true });
      if (made !== undefined) this.created = true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // EEXIST: the location is there, and not a directory; ENOTDIR: so is a directory above it.
      if (code !== 'EEXIST' && code !== 'ENOTDIR') throw this.failed(error, `create ${name}`);
      const what = code === 'EEXIST' ? 'it is a file, not a directory' : 'a part of its path is a file, not a directory';
      throw new SavepointStorageError('not-empty', `cannot write a savepoint here: ${what}; choose another location (stateshift migrate and merge: another --out)`, this.location, { cause: error });
    }
    let handle: FileHandle;
    try {
      handle = await open(this.objectPath(name), CREATE_FLAGS, 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw this.failed(error, `create ${name}`);
    }
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  }

  /** A file system error as SavepointStorageError: access for permissions, io for the rest. */
  private failed(error: unknown, what: string): unknown {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) return error;
    const reason = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'access' : 'io';
    return new SavepointStorageError(reason, `cannot ${what}: ${code}`, this.location, { cause: error });
  }

  async remove(name: string): Promise<void> {
    checkPlainName(name);
    await rm(this.objectPath(name), { force: true });
  }

  async removeLocation(): Promise<void> {
    if (!this.created) return;
    await rmdir(this.location).catch(() => undefined);
  }

  async describe(): Promise<string> {
    const stats = await lstat(this.location).catch((error) => (isMissing(error) ? undefined : Promise.reject(error)));
    if (!stats) return `nothing exists at ${resolve(this.location)}`;
    if (stats.isFile()) return `it is a file (${stats.size} bytes), not a savepoint directory`;
    if (!stats.isDirectory()) return 'it is neither a directory nor a file';
    const names = (await readdir(this.location)).sort();
    if (!names.length) return 'it is an empty directory';
    return `the directory has no _metadata; it holds ${listNames(names)}${guessWhat(names)}`;
  }
}

function checkRegular(stats: { isFile(): boolean; isDirectory(): boolean }, path: string): void {
  if (!stats.isFile()) throw new CorruptSavepointError(`is ${stats.isDirectory() ? 'a directory' : 'not a regular file'}; a savepoint holds regular files only`, path);
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

class FileHandleReader implements ObjectHandle {
  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  async *read(start: number, end: number, options: { reuse?: boolean } = {}): AsyncGenerator<Uint8Array> {
    let position = start;
    // Reused: two buffers take turns (the one yielded, and the one the caller was done with).
    const pool = options.reuse ? [Buffer.allocUnsafe(Math.min(READ_CHUNK, end - start)), Buffer.allocUnsafe(Math.min(READ_CHUNK, end - start))] : undefined;
    for (let turn = 0; position < end; turn++) {
      const size = Math.min(READ_CHUNK, end - position);
      const chunk = pool ? pool[turn % 2].subarray(0, size) : Buffer.allocUnsafe(size);
      const { bytesRead } = await this.handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, bytesRead);
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

class FdReader implements SyncObjectReader {
  constructor(
    private fd: number | undefined,
    readonly size: number,
  ) {}

  readSync(start: number, length: number): Uint8Array {
    if (this.fd === undefined) throw new TypeError('readSync() after close()');
    const out = new Uint8Array(length);
    let read = 0;
    while (read < length) {
      const n = readSync(this.fd, out, read, length - read, start + read);
      if (n === 0) break;
      read += n;
    }
    return read === length ? out : out.subarray(0, read);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Written bytes after which a sink starts flushing them to disk in the background. */
const SYNC_EVERY = 8 * 1024 * 1024;

class FileSink implements ObjectSink {
  /** A chunk is in the page cache once its write resolves. */
  readonly releasesChunks = true;
  private position = 0;
  private syncedTo = 0;
  /**
   * A background fdatasync of what was written so far: the disk works while the writer encodes the
   * next chunks, so the fsync at close has little left to do. Awaited (and its error thrown) by close.
   */
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += chunk.length;
    if (this.position - this.syncedTo >= SYNC_EVERY) {
      const previous = this.syncing;
      if (previous) await previous;
      this.syncedTo = this.position;
      this.syncing = this.handle.datasync();
      this.syncing.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    try {
      await this.syncing;
      await this.handle.sync();
    } finally {
      await this.handle.close();
    }
  }

  async abort(): Promise<void> {
    await this.syncing?.catch(() => undefined);
    await this.handle.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

/** Temporary file, fsync, rename over the target, fsync the directory. */
export async function writeFileAtomically(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, `.${name}.tmp-${process.pid}-${Date.now()}`);
  const handle = await open(tmp, CREATE_FLAGS, 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, join(dir, name));
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
