/**
 * A command ended early: by Ctrl-C (SIGINT), or by a reader of its output that went away (EPIPE:
 * `stateshift demo | head -1`). With nothing under way that leaves something behind, the process
 * ends at once: 130 after Ctrl-C, quietly after a closed pipe. Work run by `interruptible` (a
 * migration, a merge, the demo) is not cut off midway: its signal is aborted, so it stops at its
 * next step and removes what it made as on any failure, and then fails with InterruptedError. A
 * second Ctrl-C ends the process at once.
 */
import { EXIT_INTERRUPTED, InterruptedError } from './errors.js';

const running = new Set<AbortController>();
/** The process's own streams and Ctrl-C are watched (the command line, not a program calling main). */
let watching = false;
/** The first interruption, once one came. */
let ending: InterruptedError | undefined;

function stop(reason: InterruptedError): void {
  ending = reason;
  for (const controller of running) controller.abort(reason);
}

function onSigint(): void {
  if (ending || !running.size) process.exit(EXIT_INTERRUPTED);
  stop(new InterruptedError('interrupted'));
}

/** Ctrl-C and closed pipes end the process as above from now on (called for the process's own output). */
export function watchInterruptions(): void {
  if (watching) return;
  watching = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      if (ending) return; // already stopping: the work removes what it made, then the command ends
      if (!running.size) process.exit(process.exitCode ?? 0);
      stop(new InterruptedError('the output was closed', true));
    });
  }
}

/**
 * Runs `work` so that an interruption aborts its signal instead of ending the process; once it has
 * unwound, the command fails with InterruptedError(`what`): what was stopped and what is left.
 */
export async function interruptible<T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  if (watching && !running.size) process.on('SIGINT', onSigint);
  running.add(controller);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    throw new InterruptedError(what, (controller.signal.reason as InterruptedError).quiet);
  } finally {
    running.delete(controller);
    if (watching && !running.size) process.off('SIGINT', onSigint);
  }
}
