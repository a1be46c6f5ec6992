/**
 * @stateshift/cli: the `stateshift` command (inspect, dump, check, migrate, demo), also callable
 * in-process.
 *
 * @module @stateshift/cli
 */
export { main } from './main.js';
export { loadJob } from './load-job.js';
export { toJson, type Io } from './io.js';
export { EXIT_OK, EXIT_UNSAFE, EXIT_USAGE } from './errors.js';
