import { afterAll, beforeAll } from 'vitest';
import { BUCKET, CREDENTIALS, startS3, type TestS3 } from '../../savepoint/test/s3-server.js';

/** What the CLI's S3 tests use of the server. */
export interface CliS3 extends Pick<TestS3, 'options' | 'keys' | 'put'> {
  /** An `s3://` URL in the test bucket. */
  url(prefix: string): string;
  /** The CLI's flags that reach this server. */
  flags(): string[];
}

/**
 * An S3 server for the tests of one file: started before them, with its credentials in the
 * environment (the CLI takes them from the SDK's standard chain), stopped after them.
 */
export function useS3(): CliS3 {
  let server: TestS3 | undefined;
  beforeAll(async () => {
    server = await startS3();
    process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
  });
  afterAll(async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await server?.close();
  });
  const started = () => {
    if (!server) throw new Error('the S3 server is started before the tests (useS3 at the top of the file)');
    return server;
  };
  return {
    get options() {
      return started().options;
    },
    keys: (prefix) => started().keys(prefix),
    put: (key, body) => started().put(key, body),
    url: (prefix) => `s3://${BUCKET}/${prefix}`,
    flags: () => ['--s3-endpoint', started().endpoint, '--s3-region', 'us-east-1'],
  };
}
