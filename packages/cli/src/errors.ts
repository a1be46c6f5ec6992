/** Exit codes and the command line's own errors (describe-error.ts turns any error into a message). */

export const EXIT_OK = 0;
/** The upgrade would fail (check), or the restore rules refuse it (migrate). */
export const EXIT_UNSAFE = 1;
/** Bad usage, unreadable input, a corrupt savepoint, a module that is not a job. */
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A path that is not a savepoint at all (missing, a file, a database): not a damaged one. */
export class NotASavepointError extends UsageError {
  override name = 'NotASavepointError';
}
