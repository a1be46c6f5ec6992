/**
 * A savepoint under an S3 prefix (AWS S3, MinIO, R2, ... through `@aws-sdk/client-s3`, an optional
 * peer dependency loaded on first use). Object `<prefix>/<name>` holds the savepoint's `<name>`.
 * Reads are ranged GETs streamed chunk by chunk; large objects are written as multipart uploads,
 * a part at a time; `_metadata` and the writer's lock are single PUTs with `If-None-Match: *`.
 */
import { randomBytes } from 'node:crypto';
import { SavepointStorageError, type S3Credentials, type S3Options } from '@stateshift/core';
import type * as S3 from '@aws-sdk/client-s3';
import { s3ClientConfig } from './s3-config.js';
import { isNotFound, s3StorageError, statusOf } from './s3-errors.js';
import { openS3SyncSource } from './s3-sync.js';
import {
  checkPlainName,
  guessWhat,
  listNames,
  type ObjectHandle,
  type ObjectSink,
  type SavepointStorage,
  type SyncObjectSource,
  type SyncReadOptions,
} from './storage.js';

export type { S3Options, S3Credentials };

const MIN_PART = 5 * 1024 * 1024;
const DEFAULT_PART = 8 * 1024 * 1024;
/** Parts uploaded at once by one object writer. */
const PARALLEL_PARTS = 2;

type Sdk = typeof S3;
let sdk: Promise<Sdk> | undefined;
function loadSdk(location: string): Promise<Sdk> {
  sdk ??= import('@aws-sdk/client-s3').catch((cause) => {
    sdk = undefined;
    throw new TypeError(`${location}: savepoints on S3 need @aws-sdk/client-s3; install it (npm install @aws-sdk/client-s3@3)`, { cause });
  });
  return sdk;
}

/** Clients made from options, shared by every storage with the same options. */
const clients = new Map<string, Promise<S3.S3Client>>();

function clientFor(options: S3Options, location: string): Promise<S3.S3Client> {
  if (options.client) return Promise.resolve(options.client as S3.S3Client);
  // A credentials provider (a function) cannot be compared, so its client is not shared.
  const shareable = typeof options.credentials !== 'function';
  const key = JSON.stringify([options.endpoint, options.region, options.forcePathStyle, options.credentials]);
  let client = shareable ? clients.get(key) : undefined;
  if (!client) {
    client = loadSdk(location).then(({ S3Client }) => new S3Client(s3ClientConfig(options) as S3.S3ClientConfig));
    if (shareable) clients.set(key, client);
  }
  return client;
}

/** Splits `s3://bucket/prefix` into bucket and prefix (no leading or trailing slash). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/?#]*)\/?([^?#]*)$/i.exec(url);
  if (!match) throw new TypeError(`"${url}" is not an S3 location; write s3://bucket/prefix`);
  const [, bucket, path] = match;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new TypeError(`"${url}": "${bucket}" is not a valid S3 bucket name`);
  const prefix = path.replace(/\/+$/, '');
  if (prefix.split('/').some((p) => p === '' || p === '.' || p === '..')) throw new TypeError(`"${url}": the prefix may not hold empty, "." or ".." parts`);
  return { bucket, prefix };
}

/** The client, bucket and location that a storage and its readers and writers share. */
class Connection {
  constructor(
    readonly location: string,
    readonly bucket: string,
    readonly client: Promise<S3.S3Client>,
  ) {}

  objectPath(name: string): string {
    return `${this.location}/${name}`;
  }

  /** Sends a command; store failures become SavepointStorageError. */
  async send<T>(make: (sdk: Sdk) => unknown, what: string): Promise<T> {
    const client = await this.client;
    const command = make(await loadSdk(this.location));
    try {
      return (await client.send(command as never)) as T;
    } catch (error) {
      throw s3StorageError(error, what, this.location, this.bucket);
    }
  }
}

export class S3Storage implements SavepointStorage {
  readonly location: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly conn: Connection;

  constructor(
    url: string,
    private readonly options: S3Options = {},
  ) {
    const { bucket, prefix } = parseS3Url(url);
    this.prefix = prefix;
    this.location = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.partSize = Math.max(MIN_PART, options.partSize ?? DEFAULT_PART);
    const client = clientFor(options, this.location);
    client.catch(() => undefined);
    this.conn = new Connection(this.location, bucket, client);
  }

  objectPath(name: string): string {
    return this.conn.objectPath(name);
  }

  private key(name: string): string {
    checkPlainName(name);
    return this.prefix ? `${this.prefix}/${name}` : name;
  }

  async list(options: { all?: boolean } = {}): Promise<{ name: string; size: number }[]> {
    const out: { name: string; size: number }[] = [];
    const start = this.prefix ? `${this.prefix}/` : '';
    let token: string | undefined;
    do {
      const page = await this.conn.send<S3.ListObjectsV2CommandOutput>(
        (s) => new s.ListObjectsV2Command({ Bucket: this.conn.bucket, Prefix: start, Delimiter: '/', ContinuationToken: token }),
        'list the objects',
      );
      for (const o of page.Contents ?? []) if (o.Key && o.Key !== start) out.push({ name: o.Key.slice(start.length), size: o.Size ?? 0 });
      if (options.all) for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push({ name: p.Prefix.slice(start.length), size: 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async open(name: string): Promise<ObjectHandle | undefined> {
    const key = this.key(name);
    let head: S3.HeadObjectCommandOutput;
    try {
      head = await this.conn.send((s) => new s.HeadObjectCommand({ Bucket: this.conn.bucket, Key: key }), `read ${name}`);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return new S3Reader(this.conn, key, name, head.ContentLength ?? 0, head.ETag);
  }

  /**
   * Synchronous ranged reads made by a worker thread (one per source, shared by its objects): each
   * read blocks the calling thread until the worker's ranged GET answers or `timeoutMs` passes.
   */
  async openSyncSource(options: SyncReadOptions = {}): Promise<SyncObjectSource> {
    return openS3SyncSource({ location: this.location, bucket: this.conn.bucket, key: (name) => this.key(name), client: this.conn.client, options: this.options }, options);
  }

  async create(name: string): Promise<ObjectSink> {
    return new S3Sink(this.conn, this.key(name), name, this.partSize);
  }

  async commit(name: string, bytes: Uint8Array): Promise<void> {
    const key = this.key(name);
    await this.conn.send((s) => new s.PutObjectCommand({ Bucket: this.conn.bucket, Key: key, Body: bytes, IfNoneMatch: '*' }), `write ${name}`);
  }

  async createExclusive(name: string, bytes: Uint8Array): Promise<boolean> {
    const key = this.key(name);
    const existing = await this.open(name);
    if (existing) return false;
    // A unique token: a store that ignores If-None-Match lets a second PUT through, which the
    // read-back then shows (unless both writers start within the same few milliseconds).
    const token = randomBytes(16).toString('hex');
    const body = new Uint8Array([...bytes, ...new TextEncoder().encode(`\n${token}`)]);
    try {
      await this.conn.send((s) => new s.PutObjectCommand({ Bucket: this.conn.bucket, Key: key, Body: body, IfNoneMatch: '*' }), `create ${name}`);
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409) return false;
      throw error;
    }
    const back = await this.conn.send<S3.GetObjectCommandOutput>((s) => new s.GetObjectCommand({ Bucket: this.conn.bucket, Key: key }), `read ${name}`);
    const text = await back.Body!.transformToString();
    return text.endsWith(token);
  }

  async remove(name: string): Promise<void> {
    const key = this.key(name);
    await this.conn.send((s) => new s.DeleteObjectCommand({ Bucket: this.conn.bucket, Key: key }), `remove ${name}`);
  }

  async removeLocation(): Promise<void> {
    // A prefix exists only through its objects.
  }

  async describe(): Promise<string> {
    const objects = await this.list();
    if (!objects.length) {
      const asObject = this.prefix ? await this.sendHead(this.prefix) : false;
      return asObject ? 'it is an object, not a prefix holding a savepoint' : `no objects under ${this.location}/`;
    }
    const names = objects.map((o) => o.name);
    return `the prefix has no _metadata; it holds ${listNames(names)}${guessWhat(names)}`;
  }

  private async sendHead(key: string): Promise<boolean> {
    try {
      await this.conn.send((s) => new s.HeadObjectCommand({ Bucket: this.conn.bucket, Key: key }), 'read the location');
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

}

class S3Reader implements ObjectHandle {
  constructor(
    private readonly conn: Connection,
    private readonly key: string,
    private readonly name: string,
    readonly size: number,
    private readonly etag: string | undefined,
  ) {}

  async *read(start: number, end: number): AsyncGenerator<Uint8Array> {
    if (end <= start) return;
    const out = await this.conn.send<S3.GetObjectCommandOutput>(
      (s) =>
        new s.GetObjectCommand({
          Bucket: this.conn.bucket,
          Key: this.key,
          Range: `bytes=${start}-${end - 1}`,
          ...(this.etag ? { IfMatch: this.etag } : {}),
        }),
      `read ${this.name}`,
    );
    const body = out.Body as unknown as AsyncIterable<Uint8Array> & { destroy?: () => void };
    try {
      // Plain Uint8Array views, as the file system yields (entries never hold Buffers).
      for await (const chunk of body) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    } catch (error) {
      throw new SavepointStorageError('io', `reading ${this.name} from offset ${start} failed: ${(error as Error).message}`, this.conn.location, { cause: error });
    } finally {
      body.destroy?.();
    }
  }

  async close(): Promise<void> {}
}

class S3Sink implements ObjectSink {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private uploadId: string | undefined;
  private readonly parts: { PartNumber: number; ETag: string }[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown;
  private completed = false;

  constructor(
    private readonly conn: Connection,
    private readonly key: string,
    private readonly name: string,
    private readonly partSize: number,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // Parts grow with the object, so 10,000 parts reach far past any data file.
    if (this.buffered >= this.partSize * 2 ** Math.floor(this.parts.length / 1000)) await this.uploadPart();
  }

  private take(): Uint8Array {
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    return body;
  }

  private async uploadPart(): Promise<void> {
    const body = this.take();
    const bucket = this.conn.bucket;
    this.uploadId ??= (
      await this.conn.send<S3.CreateMultipartUploadCommandOutput>((s) => new s.CreateMultipartUploadCommand({ Bucket: bucket, Key: this.key }), `write ${this.name}`)
    ).UploadId!;
    const PartNumber = this.parts.length + 1;
    const part = { PartNumber, ETag: '' };
    this.parts.push(part);
    const upload = this.conn
      .send<S3.UploadPartCommandOutput>(
        (s) => new s.UploadPartCommand({ Bucket: bucket, Key: this.key, UploadId: this.uploadId, PartNumber, Body: body }),
        `write ${this.name} (part ${PartNumber})`,
      )
      .then(
        (out) => {
          part.ETag = out.ETag!;
        },
        (error) => {
          this.failure ??= error;
        },
      )
      .finally(() => this.inflight.delete(upload));
    this.inflight.add(upload);
    while (this.inflight.size >= PARALLEL_PARTS) await Promise.race(this.inflight);
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    const bucket = this.conn.bucket;
    if (this.uploadId === undefined) {
      const body = this.take();
      await this.conn.send((s) => new s.PutObjectCommand({ Bucket: bucket, Key: this.key, Body: body }), `write ${this.name}`);
    } else {
      if (this.buffered > 0) await this.uploadPart();
      await Promise.all(this.inflight);
      if (this.failure) throw this.failure;
      await this.conn.send(
        (s) => new s.CompleteMultipartUploadCommand({ Bucket: bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts } }),
        `write ${this.name}`,
      );
    }
    this.completed = true;
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.inflight);
    const bucket = this.conn.bucket;
    if (this.uploadId !== undefined && !this.completed) {
      await this.conn
        .send((s) => new s.AbortMultipartUploadCommand({ Bucket: bucket, Key: this.key, UploadId: this.uploadId }), `abort ${this.name}`)
        .catch(() => undefined);
    }
    if (this.completed) await this.conn.send((s) => new s.DeleteObjectCommand({ Bucket: bucket, Key: this.key }), `remove ${this.name}`);
  }
}
