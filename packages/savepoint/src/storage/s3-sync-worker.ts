/**
 * The worker thread of synchronous S3 reads (see s3-sync.ts): answers each request on its port with
 * a HEAD or a ranged GET, posts the answer, then bumps the shared counter and wakes the waiting thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as S3 from '@aws-sdk/client-s3';
import { s3ClientConfig } from './s3-config.js';
import type { SyncReply, SyncRequest, WorkerData } from './s3-sync.js';

const { config, bucket, timeoutMs, port, answered } = workerData as WorkerData;
const sdk: typeof S3 = await import('@aws-sdk/client-s3');
const client = new sdk.S3Client({ ...s3ClientConfig(config), requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs } } as S3.S3ClientConfig);

async function answer(request: SyncRequest): Promise<{ reply: SyncReply; transfer: ArrayBuffer[] }> {
  const { id, key } = request;
  try {
    if (request.op === 'head') {
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { reply: { id, size: head.ContentLength ?? 0, ...(head.ETag ? { etag: head.ETag } : {}) }, transfer: [] };
    }
    const out = await client.send(
      new sdk.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${request.start}-${request.end - 1}`, ...(request.etag ? { IfMatch: request.etag } : {}) }),
    );
    const body = await out.Body!.transformToByteArray();
    // Not every S3-compatible store honours If-Match: the ETag is compared here too.
    if (request.etag && out.ETag && out.ETag !== request.etag) {
      return { reply: { id, error: { name: 'PreconditionFailed', message: `the object changed since it was opened (ETag ${out.ETag}, was ${request.etag})`, $metadata: { httpStatusCode: 412 } } }, transfer: [] };
    }
    // A view of a shared pool cannot be transferred: such bytes are copied first.
    const bytes = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer ? body : body.slice();
    return { reply: { id, bytes }, transfer: [bytes.buffer as ArrayBuffer] };
  } catch (error) {
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    return { reply: { id, error: { name: e.name, message: e.message ?? String(error), ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}) } }, transfer: [] };
  }
}

port.on('message', (request: SyncRequest) => {
  void answer(request).then(({ reply, transfer }) => {
    port.postMessage(reply, transfer);
    Atomics.add(answered, 0, 1);
    Atomics.notify(answered, 0);
  });
});
parentPort!.postMessage('ready');
