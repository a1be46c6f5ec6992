/**
 * Issue 18's corruption suite through the heap backend's restore: every flipped byte (0x01, 0xff)
 * and every truncation of `_metadata` and of a data file gives a typed error or the original values.
 */
import { expect, test } from 'vitest';
import { runBackendCorruptionSuite } from '@stateshift/backend/testing';
import { openHeapBackend } from '../src/index.js';

test('heap restore: every flipped byte and every truncation of _metadata and a data file is a typed error or the original values', async () => {
  const report = await runBackendCorruptionSuite({ factory: (options) => openHeapBackend(options) });
  console.log(`heap: ${report.summary}`);
  expect(report.failures).toEqual([]);
  expect(report.cases).toBeGreaterThan(2000);
  expect(report.typedErrors + report.original).toBe(report.cases);
}, 600_000);
