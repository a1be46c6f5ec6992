import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshotToBytes, storedValueSerializer } from '@stateshift/core';
import { openSavepoint } from '@stateshift/savepoint';
import { workspace, type BackendUnderTest } from './harness.js';
import { upgradeStoryCases } from './story.js';

/** Runs every upgrade-story case: v1 writes and takes a savepoint, v2 restores from it. */
export function upgradeStorySuite(b: BackendUnderTest): void {
  describe(`${b.name}: the orders upgrade story`, () => {
    const ws = workspace();
    for (const c of upgradeStoryCases) {
      it(c.name, async () => {
        const v1 = await ws.open(b, { job: c.before });
        await c.write(v1);
        const savepoint = join(await ws.dir(), 'savepoint-1');
        await v1.savepoint(savepoint);
        await v1.close();

        const restoring = ws.open(b, { job: c.after, restoreFrom: savepoint, ...c.options });
        if (!c.expect.ok) {
          const error = await restoring.then(
            () => undefined,
            (e: Error) => e,
          );
          expect(error, 'the restore should fail').toBeInstanceOf(Error);
          expect(error!.name).toBe(c.expect.error);
          for (const name of c.expect.names) expect(error!.message).toContain(name);
          return;
        }
        const v2 = await restoring;
        await c.expect.verify(v2);
        // After a restore the next savepoint holds the new schema only.
        const next = join(await ws.dir(), 'savepoint-2');
        await v2.savepoint(next);
        const metadata = (await openSavepoint(next)).metadata;
        for (const op of metadata.operators) {
          for (const state of op.states) {
            if (!b.keepsOldVersions) expect(state.versions, `${op.uid}/${state.name}`).toHaveLength(1);
            // The newest version is always the new job's schema.
            const declared = c.after.operator(op.uid)!.state(state.name)!;
            expect(snapshotToBytes(state.versions[state.versions.length - 1].snapshot)).toEqual(snapshotToBytes(storedValueSerializer(declared).snapshot()));
          }
        }
        expect(metadata.operators.map((o) => o.uid)).toEqual(c.after.operators.map((o) => o.uid));
        await v2.close();
        // And that savepoint restores under the same version as is.
        const v3 = await ws.open(b, { job: c.after, restoreFrom: next });
        await c.expect.verify(v3);
      });
    }
  });
}
