/**
 * @stateshift/backend-lsm: keyed state as bytes in LevelDB (classic-level), for state larger than
 * memory, behind a write buffer committed at checkpoints, migrating eagerly or lazily key by key.
 *
 * @module @stateshift/backend-lsm
 */
export { LsmBackend } from './backend.js';
export { openLsmBackend } from './open.js';
export { BackgroundMigration, type MigrationProgress } from './migration.js';
export type { LsmOpenOptions, MigrationMode } from './options.js';
