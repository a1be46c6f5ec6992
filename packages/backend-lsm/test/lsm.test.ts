import { test } from 'vitest';
import { supports } from '@stateshift/core';
import { backendSuite } from '@stateshift/backend/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendOpenOptions } from '@stateshift/core';
import { openLsmBackend, type MigrationMode } from '../src/index.js';

/** The suite passes a directory; without one, a new temporary directory per call. */
const factory = (migration: MigrationMode, restore: 'copy' | 'in-place' = 'copy') => (options: BackendOpenOptions) =>
  openLsmBackend({ ...options, dir: options.dir ?? mkdtempSync(join(tmpdir(), 'stateshift-lsm-')), migration, restore });
const manifest = supports({ persistence: true, lazyMigration: true, keepsOldVersions: true, backgroundMigration: true, inPlaceRestore: true });

backendSuite({ test, factory: factory('eager'), supports: manifest, name: 'lsm (eager)' });
backendSuite({
  test,
  factory: factory('lazy'),
  supports: manifest,
  name: 'lsm (lazy)',
});
// Every restore reads the savepoint in place, and a copy pass copies it in behind the scenes.
backendSuite({ test, factory: factory('lazy', 'in-place'), supports: manifest, name: 'lsm (in place)' });
