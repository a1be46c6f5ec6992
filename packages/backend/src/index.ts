/**
 * @stateshift/backend: what every state backend shares (typed synchronous handles, TTL, validation,
 * copy semantics, the restore driver, checkpoints and savepoints), for backend implementors. Users
 * install a backend (`@stateshift/backend-heap`, `@stateshift/backend-lsm`), which brings this.
 *
 * @module @stateshift/backend
 */
export { AbstractStateBackend, checkOpenOptions, checkPosition, servedRange, type ExportCut } from './abstract-backend.js';
export { OperatorSlot, StateSlot, withPlace, type KeyLocation } from './slots.js';
export type { PrivateStateApi, MapEntryWrite } from './private-api.js';
export { valueHandle, listHandle, mapHandle, type HandleHost } from './handles.js';
export { restoreRekeyed, type RekeyedRow, type RekeyOptions } from './rekey.js';
export { checkpointInDir, currentCheckpoint, restoreSource } from './checkpoint-dir.js';
export { lockDirectory } from './directory-lock.js';
export { isRunning } from '@stateshift/savepoint';
