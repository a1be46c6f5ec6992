/**
 * @stateshift/backend-heap: keyed state as objects in memory, restored from and saved to the
 * canonical savepoint format, migrating eagerly on restore.
 *
 * @module @stateshift/backend-heap
 */
export { openHeapBackend, HeapBackend } from './backend.js';
