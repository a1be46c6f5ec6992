import { backendSuite, upgradeStorySuite, type BackendUnderTest } from '@stateshift/backend-suite';
import { openLsmBackend } from '../src/index.js';

const eager: BackendUnderTest = { name: 'lsm (eager)', open: (options, dir) => openLsmBackend({ ...options, dir, migration: 'eager' }) };
const lazy: BackendUnderTest = { name: 'lsm (lazy)', open: (options, dir) => openLsmBackend({ ...options, dir, migration: 'lazy' }), keepsOldVersions: true };

backendSuite(eager);
upgradeStorySuite(eager);
upgradeStorySuite(lazy);
