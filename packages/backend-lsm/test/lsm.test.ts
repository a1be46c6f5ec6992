import { test } from 'vitest';
import { supports } from '@stateshift/core';
import { backendSuite } from '@stateshift/backend/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendOpenOptions } from '@stateshift/core';
import { openLsmBackend, type MigrationMode } from '../src/index.js';

/** The suite passes a directory; without one, a new temporary directory per call. */
const factory = (migration: MigrationMode) => (options: BackendOpenOptions) =>
  openLsmBackend({ ...options, dir: options.dir ?? mkdtempSync(join(tmpdir(), 'stateshift-lsm-')), migration });

backendSuite({ test, factory: factory('eager'), supports: supports({ persistence: true, lazyMigration: true, keepsOldVersions: true, backgroundMigration: true }), name: 'lsm (eager)' });
backendSuite({
  test,
  factory: factory('lazy'),
  supports: supports({ persistence: true, lazyMigration: true, keepsOldVersions: true, backgroundMigration: true }),
  name: 'lsm (lazy)',
});
