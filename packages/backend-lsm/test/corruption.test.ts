/**
 * Issue 18's corruption suite through the LSM backend's restore, eager and lazy: every flipped
 * byte (0x01, 0xff) and every truncation of `_metadata` and of a data file gives a typed error or
 * the original values. The lazy variant samples every EVERY-th byte position to keep CI short; the
 * eager one damages every byte.
 */
import { expect, test } from 'vitest';
import { runBackendCorruptionSuite } from '@stateshift/backend/testing';
import { openLsmBackend, type MigrationMode } from '../src/index.js';

const cases: [MigrationMode, number][] = [
  ['eager', 1],
  ['lazy', 5],
];

for (const [migration, every] of cases) {
  test(`lsm (${migration}) restore: ${every === 1 ? 'every' : `every ${every}th`} flipped byte and truncation of _metadata and a data file is a typed error or the original values`, async () => {
    const report = await runBackendCorruptionSuite({ factory: (options) => openLsmBackend({ ...options, migration }), every });
    console.log(`lsm (${migration}): ${report.summary}`);
    expect(report.failures).toEqual([]);
    expect(report.cases).toBeGreaterThan(2000 / every);
    expect(report.typedErrors + report.original).toBe(report.cases);
  }, 900_000);
}
