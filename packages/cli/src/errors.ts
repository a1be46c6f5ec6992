/** Exit codes and the command line's own errors (describe-error.ts turns any error into a message). */

export const EXIT_OK = 0;
/** The upgrade would fail (check), or the restore rules refuse it (migrate). */
export const EXIT_UNSAFE = 1;
/** Bad usage, unreadable input, a corrupt savepoint, a module that is not a job. */
export const EXIT_USAGE = 2;
/** Ctrl-C (SIGINT) stopped the command: 128 + the signal's number, as shells report it. */
export const EXIT_INTERRUPTED = 130;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A path that is not a savepoint at all (missing, a file, a database): not a damaged one. */
export class NotASavepointError extends UsageError {
  override name = 'NotASavepointError';
}

/**
 * Ctrl-C, or a reader of the output that went away (`quiet`: nothing more to say), stopped the
 * command; what it had made is removed. The message says what was stopped and what is left.
 */
export class InterruptedError extends Error {
  override name = 'InterruptedError';

  constructor(
    message: string,
    readonly quiet = false,
  ) {
    super(message);
  }
}
