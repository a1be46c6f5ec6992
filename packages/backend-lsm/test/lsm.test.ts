import { test } from 'vitest';
import { supports } from '@stateshift/core';
import { backendSuite } from '@stateshift/backend/testing';
import { openLsmBackend } from '../src/index.js';

backendSuite({ test, factory: (options) => openLsmBackend({ ...options, migration: 'eager' }), supports: supports({ persistence: true }), name: 'lsm (eager)' });
backendSuite({
  test,
  factory: (options) => openLsmBackend({ ...options, migration: 'lazy' }),
  supports: supports({ persistence: true, lazyMigration: true, keepsOldVersions: true }),
  name: 'lsm (lazy)',
});
