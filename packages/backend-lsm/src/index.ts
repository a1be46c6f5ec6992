/**
 * @stateshift/backend-lsm: keyed state as bytes in LevelDB (classic-level), for state larger than
 * memory, migrating eagerly or lazily key by key.
 *
 * @module @stateshift/backend-lsm
 */
export { openLsmBackend, LsmBackend, BackgroundMigration, type LsmOpenOptions, type MigrationMode } from './backend.js';
export type { MigrationProgress } from './migration.js';
export { loadMetadata, type LocalMetadata } from './local-metadata.js';
