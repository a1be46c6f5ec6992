/** Turning errors into messages a user can act on. */
import { MissingAdapterError, StateshiftError } from '@stateshift/core';
import { UsageError } from './errors.js';
import { isValidPackageName, redactPackageNames, safe, safeLines } from './text.js';

/** The message of an error, with text from the savepoint made safe for a terminal. */
export function describeError(error: unknown): string {
  return redactPackageNames(errorText(error));
}

function errorText(error: unknown): string {
  if (error instanceof MissingAdapterError) {
    // The package name comes from the savepoint: it goes into an install hint only if it is one.
    const hint = isValidPackageName(error.packageName)
      ? `install ${error.packageName} in this project (npm install ${error.packageName}) and run the command again`
      : 'the package name it records is not a valid npm package name, so the savepoint is damaged or was not written by stateshift';
    return `${error.name}: a state's serializer snapshot is of kind "${safe(error.kind)}", which no loaded package reads; ${hint}`;
  }
  if (error instanceof StateshiftError || error instanceof UsageError || error instanceof TypeError || error instanceof RangeError) return `${error.name}: ${safeLines(error.message)}`;
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return `no such file or directory: ${safe(e.path ?? e.message)}`;
  return error instanceof Error ? `${safe(error.name)}: ${safeLines(error.message)}` : safeLines(String(error));
}
