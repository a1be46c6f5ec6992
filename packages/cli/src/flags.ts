/**
 * What the command line gives, checked and made usable: whole-number options, the `--s3-*` flags,
 * locations. Nothing here loads the storage modules, so a command can act on its flags (start
 * worker threads, say) before it loads them.
 */
import path from 'node:path';
import type { StorageOptions } from '@stateshift/core';
import { UsageError } from './errors.js';
import { safe } from './text.js';

/** A whole number option: digits only ('' and '1e3' are refused). */
export function wholeNumber(name: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`--${name} must be a whole number in ${min}..${max}, got "${safe(text)}"`);
  return n;
}

/** The `--s3-*` flags, as parseArgs gives them. */
export interface StorageFlags {
  's3-endpoint'?: string;
  's3-region'?: string;
  's3-force-path-style'?: boolean;
}

export const storageFlags = {
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-force-path-style': { type: 'boolean' },
} as const;

/** Storage options from the flags; none given gives none (the SDK's defaults). */
export function storageOptions(flags: StorageFlags): StorageOptions {
  const endpoint = flags['s3-endpoint'];
  const region = flags['s3-region'];
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/i.test(endpoint)) {
    throw new UsageError(`--s3-endpoint must be an http:// or https:// URL, got "${safe(endpoint)}"`);
  }
  if (region !== undefined && !/^[a-z0-9-]+$/i.test(region)) throw new UsageError(`--s3-region must be a region name such as us-east-1, got "${safe(region)}"`);
  const s3 = {
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(flags['s3-force-path-style'] ? { forcePathStyle: true } : {}),
  };
  return Object.keys(s3).length ? { s3 } : {};
}

export function isObjectStore(location: string): boolean {
  return /^s3:\/\//i.test(location);
}

/** A location as a child process or worker gets it: a directory made absolute, a URL as it is. */
export function absoluteLocation(location: string): string {
  // A location with a scheme goes on as it is: s3:// and file:// are opened, others (gs://) refused
  // by the storage as such, never turned into a path under the working directory.
  return /^[A-Za-z][A-Za-z0-9+.-]+:/.test(location) ? location : path.resolve(location);
}
