import { backendSuite, upgradeStorySuite, type BackendUnderTest } from '@stateshift/backend-suite';
import { openHeapBackend } from '../src/index.js';

const heap: BackendUnderTest = { name: 'heap', open: (options) => openHeapBackend(options) };

backendSuite(heap);
upgradeStorySuite(heap);
