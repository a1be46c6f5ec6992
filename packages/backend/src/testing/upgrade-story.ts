/**
 * The orders upgrade story on a backend: v1 writes and takes a savepoint, v2 restores from it (or is
 * refused with the error that names the problem), and the next savepoint holds the new schema.
 */
import { deepStrictEqual, equal, ok, rejects } from 'node:assert/strict';
import { snapshotToBytes, storedValueSerializer } from '@stateshift/core';
import { openSavepoint } from '@stateshift/savepoint';
import { session, type Common } from './common.js';
import { upgradeStoryCases } from './story.js';

export function all(test: Common['test'], common: Common): void {
  const { prefix, supports } = common;
  for (const c of upgradeStoryCases) {
    test(`${prefix}upgrade story: ${c.name}`, session(common, async (s) => {
      const v1 = await s.open({ job: c.before });
      c.write(v1);
      const savepoint = s.path('savepoint-1');
      await v1.savepoint(savepoint);
      await v1.close();

      const restoring = s.open({ job: c.after, restoreFrom: savepoint, ...c.options });
      if (!c.expect.ok) {
        const { error, names } = c.expect;
        await rejects(restoring, (e: unknown) => {
          ok(e instanceof Error, 'the restore fails with an Error');
          equal(e.name, error);
          for (const name of names) ok(e.message.includes(name), `the ${error} message names ${name}: ${e.message}`);
          return true;
        });
        return;
      }
      const v2 = await restoring;
      c.expect.verify(v2);
      // After a restore the next savepoint's newest version of every state is the new job's schema;
      // without keepsOldVersions it is the only one.
      const next = s.path('savepoint-2');
      await v2.savepoint(next);
      const metadata = (await openSavepoint(next)).metadata;
      for (const op of metadata.operators) {
        for (const state of op.states) {
          if (!supports.keepsOldVersions) equal(state.versions.length, 1, `${op.uid}/${state.name} holds one schema version`);
          const declared = c.after.operator(op.uid)!.state(state.name)!;
          deepStrictEqual(snapshotToBytes(state.versions[state.versions.length - 1].snapshot), snapshotToBytes(storedValueSerializer(declared).snapshot()));
        }
      }
      deepStrictEqual(
        metadata.operators.map((o) => o.uid),
        c.after.operators.map((o) => o.uid),
      );
      await v2.close();
      // And that savepoint restores under the same version as is.
      c.expect.verify(await s.open({ job: c.after, restoreFrom: next }));
    }));
  }
}
