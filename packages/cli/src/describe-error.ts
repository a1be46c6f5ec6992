/** Turning errors into messages a user can act on. */
import { MissingAdapterError } from '@stateshift/core';
import { isValidPackageName, redactPackageNames, safe, safeLines } from './text.js';

/** An error as the command line prints it: its name, then its message (made safe for a terminal). */
export function describeError(error: unknown): string {
  const message = errorMessage(error);
  return error instanceof Error && !isMissingFile(error) ? `${safe(error.name)}: ${message}` : message;
}

/** An error's message without its name (for `--json`, which gives the name beside it), made safe. */
export function errorMessage(error: unknown): string {
  return redactPackageNames(errorText(error));
}

function isMissingFile(error: unknown): error is NodeJS.ErrnoException {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function errorText(error: unknown): string {
  if (error instanceof MissingAdapterError) {
    // The package name comes from the savepoint: it goes into an install hint only if it is one.
    const hint = isValidPackageName(error.packageName)
      ? `install ${error.packageName} in this project (npm install ${error.packageName}) and run the command again`
      : 'the package name it records is not a valid npm package name, so the savepoint is damaged or was not written by stateshift';
    return `a state's serializer snapshot is of kind "${safe(error.kind)}", which no loaded package reads; ${hint}`;
  }
  if (isMissingFile(error)) return `no such file or directory: ${safe(error.path ?? error.message)}`;
  return error instanceof Error ? safeLines(error.message) : safeLines(String(error));
}
