/** How a suite drives a backend: open with options in a working directory of its own. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { BackendOpenOptions, StateBackend } from '@stateshift/savepoint';

export interface BackendUnderTest {
  name: string;
  /** `dir` is a working directory for this backend instance; reopening with the same dir restarts it. */
  open(options: BackendOpenOptions, dir: string): Promise<StateBackend>;
  /**
   * Savepoints may keep entries at older schema versions (a lazily migrating backend writes bytes
   * as stored). Otherwise a savepoint after a migrated restore holds one version per state.
   */
  keepsOldVersions?: boolean;
}

/** Temporary directories and open backends, cleaned up after each test. */
export function workspace() {
  const dirs: string[] = [];
  const open: StateBackend[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close().catch(() => undefined)));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    async dir(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), 'stateshift-suite-'));
      dirs.push(dir);
      return dir;
    },
    async open(b: BackendUnderTest, options: BackendOpenOptions): Promise<StateBackend> {
      const dir = await mkdtemp(join(tmpdir(), 'stateshift-backend-'));
      dirs.push(dir);
      const backend = await b.open(options, dir);
      open.push(backend);
      return backend;
    },
  };
}
