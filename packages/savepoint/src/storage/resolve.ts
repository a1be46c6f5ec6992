/** From what a user passes (a path, a `file://` or `s3://` URL, a storage) to a SavepointStorage. */
import { fileURLToPath } from 'node:url';
import { FileSystemStorage } from './fs-storage.js';
import type { StorageOptions } from '@stateshift/core';
import { S3Storage } from './s3-storage.js';
import type { SavepointStorage } from './storage.js';

/** A savepoint's place: a directory path, `file:///abs/dir`, `s3://bucket/prefix`, or a storage. */
export type SavepointLocation = string | URL | SavepointStorage;

export type { StorageOptions };

function isStorage(value: unknown): value is SavepointStorage {
  const s = value as SavepointStorage;
  return typeof value === 'object' && value !== null && typeof s.location === 'string' && typeof s.open === 'function' && typeof s.create === 'function';
}

/**
 * The storage of a location. A string with a scheme other than `s3://` or `file://` is refused
 * (so `s3:/bucket` or `gs://bucket` never becomes a local directory of that name).
 */
export function storageFor(location: SavepointLocation, options: StorageOptions = {}): SavepointStorage {
  if (isStorage(location)) return location;
  if (location instanceof URL) return storageFor(location.href, options);
  if (typeof location !== 'string' || !location) {
    throw new TypeError('a savepoint location must be a directory path, an s3://bucket/prefix URL or a SavepointStorage');
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) return new FileSystemStorage(location);
  if (scheme === 's3') return new S3Storage(location, options.s3);
  if (scheme === 'file') return new FileSystemStorage(fileURLToPath(location));
  throw new TypeError(
    `"${location}" names a location of scheme "${scheme}:", which stateshift cannot store savepoints in; ` +
      'use a directory path, file:///path or s3://bucket/prefix (write ./name for a directory whose name holds a colon)',
  );
}
