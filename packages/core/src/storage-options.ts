/**
 * Options for reaching savepoints on object storage, shared by backends (`restoreFrom`,
 * `savepoint()`) and by `@stateshift/savepoint`, which implements the storage.
 */

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options of S3 storage. Anything left out comes from the AWS SDK's standard chain (environment, profile, ...). */
export interface S3Options {
  /** e.g. `http://127.0.0.1:9000` for MinIO, `https://<account>.r2.cloudflarestorage.com` for R2. */
  endpoint?: string;
  region?: string;
  /** Bucket in the path, not the host name. Default: true when `endpoint` is given. */
  forcePathStyle?: boolean;
  credentials?: S3Credentials | (() => Promise<S3Credentials>);
  /** An `S3Client` of your own; the options above are then ignored. */
  client?: unknown;
  /** Bytes per multipart upload part (at least 5 MiB). Default 8 MiB. */
  partSize?: number;
}

/** How savepoint locations are reached; a directory path needs none of it. */
export interface StorageOptions {
  /** For `s3://` locations: endpoint, region, credentials, ... (else the AWS SDK's standard chain). */
  s3?: S3Options;
}
