/**
 * The S3Client configuration of S3 storage options, in one place for the storage's client and the
 * worker thread of synchronous reads (which builds its own client from static options).
 */
import type { S3Credentials } from '@stateshift/core';

/** What the configuration is made from: credentials static, or a provider where a client is made in this thread. */
export interface ClientOptions {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: S3Credentials | (() => Promise<S3Credentials>);
}

export function s3ClientConfig(options: ClientOptions): Record<string, unknown> {
  return {
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: options.forcePathStyle ?? true } : {}),
    ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
    ...(options.region ? { region: options.region } : options.endpoint && !process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION ? { region: 'us-east-1' } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // The savepoint format checksums every block itself; S3-compatible stores differ in
    // which of the SDK's newer checksum headers they accept.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}
