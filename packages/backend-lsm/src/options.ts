import type { BackendOpenOptions, JobDeclaration } from '@stateshift/core';
import type { MigrationProgress } from './migration.js';

export type MigrationMode = 'eager' | 'lazy';

export interface LsmOpenOptions<J extends JobDeclaration = JobDeclaration> extends BackendOpenOptions<J> {
  /** The database directory. Reopening it gives back the last checkpoint's state and position. */
  dir: string;
  /** How states that must migrate are migrated: one mode, or a default and modes per "uid/state". Default eager. */
  migration?: MigrationMode | { default: MigrationMode; states?: Record<string, MigrationMode> };
  /** Called after every batch of a restore, an eager pass and the background pass. */
  onProgress?(progress: MigrationProgress): void;
  /** Lazy mode: start a background pass that migrates the rest, at most this many entries per second (0: no limit). */
  backgroundMigration?: { rate?: number };
  /** Sync every database write (checkpoints included) to disk: survives power loss, not only a process crash. Default false. */
  sync?: boolean;
  /**
   * When the write buffer is written to the database before a checkpoint (its writes stay
   * uncommitted until the checkpoint): after about this many bytes, or this many entries.
   * Default 32 MiB.
   */
  writeBufferSize?: { bytes?: number; entries?: number };
}

export function modeOf(options: LsmOpenOptions, uid: string, state: string): MigrationMode {
  const m = options.migration ?? 'eager';
  if (typeof m === 'string') return m;
  return m.states?.[`${uid}/${state}`] ?? m.default;
}
