/** Savepoints: every state of every operator restores; the location must be new or empty. */
import { deepStrictEqual, equal, rejects } from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openSavepoint } from '@stateshift/savepoint';
import { collect, misuse, session, type Common } from './common.js';
import { countsJob } from './fixtures.js';

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}savepoints: a savepoint restores every state of every operator`, session(common, async (s) => {
    const { job, counter, count, events, byDay, windows, sum } = countsJob();
    const backend = await s.open({ job });
    const op = backend.operator(counter);
    for (let i = 0; i < 200; i++) {
      op.value(count).set(`user-${i}`, BigInt(i));
      op.list(events).addAll(`user-${i}`, [`a${i}`, `b${i}`]);
      op.map(byDay).put(`user-${i}`, 'mon', i);
      backend.operator(windows).value(sum).set(`user-${i}`, BigInt(i * 2), 5n);
    }
    const location = s.path('sp');
    const written = await backend.savepoint(location);
    equal(written.location, location);
    equal(written.entries, 200 * 5);
    const metadata = (await openSavepoint(location)).metadata;
    equal(metadata.files.reduce((n, f) => n + f.entries, 0), 200 * 5);
    equal(written.bytes, metadata.files.reduce((n, f) => n + f.size, 0));
    const restored = await s.open({ job, restoreFrom: location });
    const r = restored.operator(counter);
    for (const i of [0, 77, 199]) {
      equal(r.value(count).get(`user-${i}`), BigInt(i));
      deepStrictEqual(r.list(events).get(`user-${i}`), [`a${i}`, `b${i}`]);
      equal(r.map(byDay).get(`user-${i}`, 'mon'), i);
      equal(restored.operator(windows).value(sum).get(`user-${i}`, 5n), BigInt(i * 2));
    }
    equal((await collect(r.keys(count))).length, 200);
    // The restored backend writes on; the source is unchanged by it.
    r.value(count).set('user-0', 1000n);
    equal(op.value(count).get('user-0'), 0n);
  }));

  test(`${prefix}savepoints: an empty backend writes a savepoint that restores empty`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const location = s.path('sp');
    equal((await (await s.open({ job })).savepoint(location)).entries, 0);
    const restored = await s.open({ job, restoreFrom: location });
    deepStrictEqual(await collect(restored.operator(counter).keys(count)), []);
  }));

  test(`${prefix}savepoints: a location that holds files is refused and left as it was`, session(common, async (s) => {
    const { job } = countsJob();
    const backend = await s.open({ job });
    const location = await s.dir();
    await writeFile(join(location, 'keep.txt'), 'mine');
    await rejects(backend.savepoint(location), (error: unknown) => {
      equal((error as { code?: string }).code, 'STATESHIFT_SAVEPOINT_STORAGE', String(error));
      equal((error as { reason?: string }).reason, 'not-empty');
      return true;
    });
    await rejects(async () => backend.savepoint(''), misuse('location'));
    await rejects(s.open({ job, restoreFrom: s.path('missing') }));
  }));
}
