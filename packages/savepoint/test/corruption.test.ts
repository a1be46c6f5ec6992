/**
 * The corruption suite: every byte of `_metadata` and of one data file flipped (by 0x01 and 0xff),
 * and every truncation, read whole and as a rescaled instance reads (a key-group range): each case
 * gives a typed stateshift error or the original values.
 */
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { layoutOfJob, writeSavepointEntries } from '../src/index.js';
import { readStoredValues, runCorruptionSuite } from '../src/testing/index.js';
import { sessionEntries, sessions, tempDir } from './helpers.js';

test('every flipped byte and every truncation of _metadata and a data file: a typed error or the original values', async () => {
  const dir = join(await tempDir(), 'sp');
  await writeSavepointEntries(dir, layoutOfJob(sessions), { start: 0, end: 7 }, sessionEntries(5));
  const report = await runCorruptionSuite({
    dir,
    files: ['_metadata', 'op1-kg0-7.dat'],
    read: async (d) => [await readStoredValues(d), await readStoredValues(d, { range: { start: 2, end: 5 } })],
  });
  console.log(report.summary);
  expect(report.failures).toEqual([]);
  expect(report.cases).toBeGreaterThan(2000);
  expect(report.typedErrors + report.original).toBe(report.cases);
  expect(report.typedErrors).toBeGreaterThan(report.cases * 0.99);
});
