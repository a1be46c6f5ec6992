/**
 * Where a savepoint's objects live. A savepoint is a set of objects with plain names under one
 * location: a directory (`FileSystemStorage`) or an S3 prefix (`S3Storage`). Readers open objects
 * for ranged reads; writers stream new objects and commit `_metadata` last, as one atomic write.
 */

/** An object opened for reading: its size when opened, and ranged reads of it. */
export interface ObjectHandle {
  readonly size: number;
  /**
   * Streams bytes `[start, end)` in chunks; never the whole object at once unless it is small.
   * `reuse`: the caller is done with a chunk once it asks for the one after it, so the storage may
   * fill that memory again (no garbage per chunk); otherwise every chunk is its own.
   */
  read(start: number, end: number, options?: { reuse?: boolean }): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/**
 * An object opened for synchronous ranged reads (for a reader that cannot await: a backend reading a
 * restored savepoint in place, whose point reads are synchronous).
 */
export interface SyncObjectReader {
  /** The object's size when it was opened. */
  readonly size: number;
  /** Bytes `[start, start + length)`; fewer only where the object ends first. */
  readSync(start: number, length: number): Uint8Array;
  close(): void;
}

export interface SyncReadOptions {
  /**
   * Object storage: how long one synchronous read may block, in milliseconds, before it fails with
   * SavepointStorageError (the thread is blocked while it waits). Default 30 000.
   */
  timeoutMs?: number;
}

/** Synchronous reads of one storage's objects; `close()` releases what they share (S3: a worker thread). */
export interface SyncObjectSource {
  /**
   * Opens an object; undefined when there is none. Anything but a regular file (a link, a
   * directory, a FIFO) is refused with CorruptSavepointError.
   */
  openSync(name: string): SyncObjectReader | undefined;
  close(): void;
}

/** A new object being written; it exists under its name, complete, once `close()` resolves. */
export interface ObjectSink {
  /** Appends a chunk. The chunk must not change until the returned promise resolves. */
  write(chunk: Uint8Array): Promise<void>;
  /** True when a resolved `write` is done with its chunk, so the writer may fill it again (else it may be kept, e.g. buffered into a part). */
  readonly releasesChunks?: boolean;
  /** Makes the object durable and complete. */
  close(): Promise<void>;
  /** Gives up and removes what this sink wrote. */
  abort(): Promise<void>;
}

export interface SavepointStorage {
  /** The location as the user gave it (a path or an `s3://bucket/prefix` URL); errors name it. */
  readonly location: string;
  /** How errors name one object: a file path or an object URL. */
  objectPath(name: string): string;
  /**
   * Names and sizes of the objects directly at the location (none when it does not exist). With
   * `all`, also what is there but is not an object: subdirectories (file system) and common
   * prefixes (S3), named with a trailing `/`, and other entries such as links, with size 0.
   */
  list(options?: { all?: boolean }): Promise<{ name: string; size: number }[]>;
  /**
   * Opens an object for reading; undefined when there is none. Anything but a regular file (a link,
   * a directory, a FIFO) is refused with CorruptSavepointError.
   */
  open(name: string): Promise<ObjectHandle | undefined>;
  /**
   * Prepares synchronous ranged reads of this storage's objects (file system: plain synchronous
   * reads; S3: ranged GETs made by a worker thread while the calling thread waits). Optional: a
   * storage without it cannot be read synchronously (nor restored in place).
   */
  openSyncSource?(options?: SyncReadOptions): Promise<SyncObjectSource>;
  /** Starts a new object of that name for streaming writes. */
  create(name: string): Promise<ObjectSink>;
  /** Writes a small object whole and atomically (the commit point: `_metadata`). */
  commit(name: string, bytes: Uint8Array): Promise<void>;
  /**
   * Creates an object only if none of that name exists (a writer's lock); false when one does.
   * Creates the location (a directory) when it does not exist yet.
   */
  createExclusive(name: string, bytes: Uint8Array): Promise<boolean>;
  /** Removes an object; no error when it is gone already. */
  remove(name: string): Promise<void>;
  /** Removes the location itself if it is empty and this storage created it (file system); else nothing. */
  removeLocation(): Promise<void>;
  /** What is at the location, in words, for "not a savepoint" errors. */
  describe(): Promise<string>;
}

/** A name a savepoint may hold: letters, digits, `.`, `_` and `-`, no separators, not `.` or `..`. */
export function isPlainName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && /^[A-Za-z0-9._-]+$/.test(name) && name !== '.' && name !== '..';
}

export function checkPlainName(name: string): void {
  if (!isPlainName(name)) throw new TypeError(`"${name}" is not a plain object name (letters, digits, ".", "_" and "-" only)`);
}

/** Bytes of one stream, gathered (for small objects such as `_metadata`). */
export async function readWhole(handle: ObjectHandle): Promise<Uint8Array> {
  const out = new Uint8Array(handle.size);
  let at = 0;
  for await (const chunk of handle.read(0, handle.size)) {
    out.set(chunk.subarray(0, Math.min(chunk.length, out.length - at)), at);
    at += chunk.length;
  }
  return at === out.length ? out : out.subarray(0, Math.min(at, out.length));
}

/** What a listing shows, in a few words: "a, b, c and 4 more". */
export function listNames(names: string[], max = 6): string {
  const shown = names.slice(0, max).map((n) => JSON.stringify(n).slice(1, -1));
  return names.length > max ? `${shown.join(', ')} and ${names.length - max} more` : shown.join(', ');
}

/** A guess at what a non-savepoint holding these names is, for the error message. */
export function guessWhat(names: string[]): string {
  if (names.includes('CURRENT') && names.some((n) => n.startsWith('MANIFEST-'))) return ' (a LevelDB database, such as an LSM backend directory: open it with the backend)';
  if (names.includes('_lock')) return ' (a savepoint whose writer is still running or stopped before its commit)';
  if (names.some((n) => n.endsWith('.dat'))) return ' (data files without a commit: a savepoint whose writing never finished)';
  return '';
}
