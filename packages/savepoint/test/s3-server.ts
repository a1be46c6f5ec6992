/** An S3-compatible server (s3rver) on a loopback port, started and stopped by the tests themselves. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { S3Client, CreateBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Options } from '../src/index.js';

// Keep the SDK from looking anywhere but here: no profile files, no instance metadata service.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/stateshift-credentials';
process.env.AWS_CONFIG_FILE = '/nonexistent/stateshift-config';
for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE']) {
  delete process.env[name];
}

export const BUCKET = 'stateshift-test';
export const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  /** Storage options for this server (explicit credentials). */
  options: S3Options;
  client: S3Client;
  keys(prefix?: string): Promise<string[]>;
  get(key: string): Promise<Uint8Array>;
  put(key: string, body: Uint8Array): Promise<void>;
  remove(key: string): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'stateshift-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = (await server.run()) as unknown as { port: number };
  const s3 = await connectS3(`http://127.0.0.1:${port}`, async () => {
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  return s3;
}

/** A client and helpers for a server at `endpoint` (in this process or another); `stop` ends the server. */
export async function connectS3(endpoint: string, stop: () => Promise<void>): Promise<TestS3> {
  const options: S3Options = { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS };
  const client = new S3Client({ ...options, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  return {
    endpoint,
    options,
    client,
    async keys(prefix = '') {
      const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (out.Contents ?? []).map((o) => o.Key!).sort();
    },
    async get(key) {
      const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return out.Body!.transformToByteArray();
    },
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    },
    async close() {
      client.destroy();
      await stop();
    },
  };
}
