/**
 * Synchronous ranged reads of S3 objects. A worker thread (one per source, shared by its objects)
 * makes the requests with its own S3Client; the calling thread posts a request on a MessagePort and
 * blocks in `Atomics.wait` until the worker has posted the answer and bumped a shared counter, then
 * takes the answer with `receiveMessageOnPort`. A wait never outlasts `timeoutMs`.
 *
 * The calling thread cannot run anything while it waits: an S3-compatible server in the same thread
 * (an in-process test server) can never answer, and every read times out.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { SavepointStorageError, type S3Credentials, type S3Options } from '@stateshift/core';
import type * as S3 from '@aws-sdk/client-s3';
import type { ClientOptions } from './s3-config.js';
import { isNotFound, s3StorageError, type S3ErrorLike } from './s3-errors.js';
import type { SyncObjectReader, SyncObjectSource, SyncReadOptions } from './storage.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/** A request to the worker. */
export type SyncRequest = { id: number } & RequestBody;
type RequestBody = { key: string } & ({ op: 'head' } | { op: 'get'; start: number; end: number; etag?: string });

/** The worker's answer: the object's size and ETag (head), its bytes (get), or the error's fields. */
export interface SyncReply {
  id: number;
  size?: number;
  etag?: string;
  bytes?: Uint8Array;
  error?: S3ErrorLike;
}

/** What the worker is started with. */
export interface WorkerData {
  config: ClientOptions;
  bucket: string;
  /** The callers' wait: the worker's requests give up after it too, so none holds a connection forever. */
  timeoutMs: number;
  port: MessagePort;
  /** Bumped (and notified) by the worker after each answer it posts. */
  answered: Int32Array;
}

interface Target {
  location: string;
  bucket: string;
  key(name: string): string;
  client: Promise<S3.S3Client>;
  options: S3Options;
}

/**
 * The options as static values a worker can receive: a credentials provider is called once, now;
 * an S3Client of the user's gives its endpoint, region, path style and (resolved now) credentials.
 * Without credentials the worker's client uses the SDK's standard chain (which refreshes itself).
 */
async function staticOptions(target: Target): Promise<ClientOptions> {
  const { options } = target;
  try {
    if (options.client) {
      const client = await target.client;
      const config = (client as { config?: Partial<S3.S3Client['config']> }).config;
      if (!config || typeof config.region !== 'function' || typeof config.credentials !== 'function') {
        throw new TypeError(`${target.location}: { s3: { client } } must be an S3Client of @aws-sdk/client-s3 v3 for synchronous reads (its endpoint, region and credentials are passed to a worker thread)`);
      }
      const endpoint = config.isCustomEndpoint && typeof config.endpoint === 'function' ? await config.endpoint() : undefined;
      const identity = await config.credentials();
      return {
        ...(endpoint ? { endpoint: `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}${endpoint.path}` } : {}),
        region: await config.region(),
        forcePathStyle: config.forcePathStyle ?? false,
        credentials: credentialsOf(identity),
      };
    }
    const credentials = typeof options.credentials === 'function' ? credentialsOf(await options.credentials()) : options.credentials;
    return { endpoint: options.endpoint, region: options.region, forcePathStyle: options.forcePathStyle, ...(credentials ? { credentials } : {}) };
  } catch (error) {
    if (error instanceof TypeError) throw error;
    throw s3StorageError(error, 'resolve the credentials for synchronous reads', target.location, target.bucket);
  }
}

function credentialsOf(identity: S3Credentials): S3Credentials {
  const { accessKeyId, secretAccessKey, sessionToken } = identity;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** Starts the worker and waits for it to be ready (its SDK loaded, its client made). */
export async function openS3SyncSource(target: Target, options: SyncReadOptions = {}): Promise<SyncObjectSource> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) throw new TypeError(`timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`);
  // Loads the SDK here first: a missing @aws-sdk/client-s3 fails as every S3 access does.
  await target.client;
  const config = await staticOptions(target);
  const answered = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const data: WorkerData = { config, bucket: target.bucket, timeoutMs, port: port2, answered };
  const worker = new Worker(new URL('./s3-sync-worker.js', import.meta.url), { workerData: data, transferList: [port2], execArgv: [] });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the worker exited with code ${code}`)));
    });
  } catch (error) {
    await worker.terminate();
    port1.close();
    throw new SavepointStorageError('io', `cannot start the worker thread of synchronous reads: ${(error as Error).message}`, target.location, { cause: error });
  }
  worker.removeAllListeners();
  // Neither keeps the process alive.
  worker.unref();
  port1.unref();
  return new S3SyncSource(target, worker, port1, answered, timeoutMs);
}

class S3SyncSource implements SyncObjectSource {
  private sequence = 0;
  private closed = false;

  constructor(
    private readonly target: Target,
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly answered: Int32Array,
    private readonly timeoutMs: number,
  ) {}

  openSync(name: string): SyncObjectReader | undefined {
    const key = this.target.key(name);
    const reply = this.call({ op: 'head', key }, name, `read ${name}`);
    if (reply.error) {
      const error = this.failed(reply.error, name, `read ${name}`);
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return new S3SyncReader(this, key, name, reply.size ?? 0, reply.etag);
  }

  /** Bytes `[start, end)` of an object (as it was when opened: `etag`). */
  get(key: string, name: string, start: number, end: number, etag: string | undefined): Uint8Array {
    const what = `read ${name} bytes ${start}-${end - 1}`;
    const reply = this.call({ op: 'get', key, start, end, ...(etag ? { etag } : {}) }, name, what);
    if (reply.error) throw this.failed(reply.error, name, what);
    return reply.bytes!;
  }

  /** Posts a request and blocks until its answer arrives (earlier answers, of requests that timed out, are dropped). */
  private call(request: RequestBody, name: string, what: string): SyncReply {
    if (this.closed) throw new TypeError(`${this.target.location}: synchronous reads after close()`);
    const id = ++this.sequence;
    this.port.postMessage({ ...request, id });
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      // Read before draining: an answer posted after the drain changes the counter, so the wait returns at once.
      const seen = Atomics.load(this.answered, 0);
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
        const reply = m.message as SyncReply;
        if (reply.id === id) return reply;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new SavepointStorageError(
          'io',
          `cannot ${what}: no answer from the store within ${this.timeoutMs} ms (is it reachable? a server running in this thread cannot answer a synchronous read)`,
          this.target.location + '/' + name,
        );
      }
      Atomics.wait(this.answered, 0, seen, left);
    }
  }

  private failed(error: S3ErrorLike, name: string, what: string): SavepointStorageError {
    return s3StorageError(Object.assign(new Error(error.message), error), what, `${this.target.location}/${name}`, this.target.bucket);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
    void this.worker.terminate();
  }
}

class S3SyncReader implements SyncObjectReader {
  constructor(
    private readonly source: S3SyncSource,
    private readonly key: string,
    private readonly name: string,
    readonly size: number,
    private readonly etag: string | undefined,
  ) {}

  readSync(start: number, length: number): Uint8Array {
    const end = Math.min(start + length, this.size);
    if (end <= start) return new Uint8Array(0);
    return this.source.get(this.key, this.name, start, end, this.etag);
  }

  close(): void {}
}
