/** How S3 failures read as SavepointStorageError: shared by the async storage and the synchronous reads. */
import { SavepointStorageError } from '@stateshift/core';

/** What an S3 error carries that the mapping reads (an SDK error, or its fields sent across threads). */
export interface S3ErrorLike {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** A store failure as SavepointStorageError: credentials, bucket, access, or io; `location` is what it names. */
export function s3StorageError(error: unknown, what: string, location: string, bucket: string): SavepointStorageError {
  const e = error as S3ErrorLike;
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'CredentialsProviderError' || (status === undefined && /credential/i.test(e.message ?? ''))) {
    return new SavepointStorageError(
      'credentials',
      `cannot ${what}: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or pass { s3: { credentials } })`,
      location,
      { cause: error },
    );
  }
  // Thrown by the SDK before any request when neither the options, AWS_REGION nor the profile name a region.
  if (status === undefined && e.message === 'Region is missing') {
    const unread = process.env.AWS_DEFAULT_REGION && !process.env.AWS_REGION ? ' (AWS_DEFAULT_REGION is set, but the AWS SDK for JavaScript reads AWS_REGION)' : '';
    return new SavepointStorageError(
      'credentials',
      `cannot ${what}: no AWS region is configured${unread}; set AWS_REGION, give the region in the options ({ s3: { region } }, stateshift's --s3-region), or a profile with a region (AWS_PROFILE)`,
      location,
      { cause: error },
    );
  }
  if (e.name === 'NoSuchBucket') return new SavepointStorageError('bucket', `cannot ${what}: bucket "${bucket}" does not exist`, location, { cause: error });
  if (status === 403 || e.name === 'AccessDenied' || e.name === 'InvalidAccessKeyId' || e.name === 'SignatureDoesNotMatch') {
    return new SavepointStorageError('access', `cannot ${what}: access denied (${e.name}); check the credentials and the bucket policy`, location, { cause: error });
  }
  return new SavepointStorageError('io', `cannot ${what}: ${e.name ?? 'error'}: ${e.message ?? String(error)}`, location, { cause: error });
}

/** A mapped error whose cause says the object (not the bucket) does not exist. */
export function isNotFound(error: unknown): boolean {
  const cause = (error as { cause?: S3ErrorLike }).cause;
  return cause?.name === 'NotFound' || cause?.name === 'NoSuchKey' || (cause?.$metadata?.httpStatusCode === 404 && cause?.name !== 'NoSuchBucket');
}

/** The HTTP status behind a mapped error. */
export function statusOf(error: unknown): number | undefined {
  return (error as { cause?: S3ErrorLike }).cause?.$metadata?.httpStatusCode;
}
