/** Exit codes and turning errors into messages a user can act on. */
import { StateshiftError } from '@stateshift/core';

export const EXIT_OK = 0;
/** The upgrade would fail (check), or the restore rules refuse it (migrate). */
export const EXIT_UNSAFE = 1;
/** Bad usage, unreadable input, a corrupt savepoint, a module that is not a job. */
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override name = 'UsageError';
}

export function describeError(error: unknown): string {
  if (error instanceof StateshiftError || error instanceof UsageError || error instanceof TypeError || error instanceof RangeError) return `${error.name}: ${error.message}`;
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return `no such file or directory: ${e.path ?? e.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
