import { test } from 'vitest';
import { supports } from '@stateshift/core';
import { backendSuite } from '@stateshift/backend/testing';
import { openHeapBackend } from '../src/index.js';

backendSuite({ test, factory: (options) => openHeapBackend(options), supports: supports({ persistence: true }), name: 'heap' });
