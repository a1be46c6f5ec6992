// The dry-run must decide exactly what a restore decides, on every case of the upgrade story.
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { upgradeStoryCases } from '@stateshift/backend/testing';
import { openHeapBackend } from '@stateshift/backend-heap';
import { checkUpgrade, openSavepoint } from '@stateshift/savepoint';
import { tempDir } from './helpers.js';

test.each(upgradeStoryCases.map((c) => [c.name, c] as const))('%s: dry-run and restore agree', async (_name, c) => {
  const v1 = await openHeapBackend({ job: c.before });
  c.write(v1);
  const dir = join(await tempDir(), 'sp');
  await v1.savepoint(dir);
  const report = checkUpgrade(await openSavepoint(dir), c.after, c.options);
  const restore = await openHeapBackend({ job: c.after, restoreFrom: dir, ...c.options }).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(report.ok).toBe(restore === undefined);
  expect(report.ok).toBe(c.expect.ok);
  if (restore) {
    expect(report.error).toEqual({ name: restore.name, message: restore.message });
    for (const name of (c.expect as { names: string[] }).names) expect(report.error!.message).toContain(name);
  }
});
