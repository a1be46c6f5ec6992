/**
 * Checkpoints: `checkpoint({ position })` makes every write so far durable with the application's
 * position; reopening the same directory (with `supports.persistence`) gives that state and
 * position. Savepoints carry the position, and a restore exposes it.
 */
import { deepStrictEqual, equal, rejects } from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { BackendLockedError, defineJob } from '@stateshift/core';
import { openSavepoint } from '@stateshift/savepoint';
import { collect, misuse, session, type Common } from './common.js';
import { countsJob } from './fixtures.js';

const encode = (offsets: Record<string, number>) => new TextEncoder().encode(JSON.stringify(offsets));

export function all(test: Common['test'], common: Common): void {
  const { prefix, supports } = common;

  test(`${prefix}checkpoints: a new backend has no position; a checkpoint sets it`, session(common, async (s) => {
    const { job } = countsJob();
    const backend = await s.open({ job });
    equal(backend.position, undefined);
    const position = encode({ p0: 10 });
    await backend.checkpoint({ position });
    deepStrictEqual(backend.position, encode({ p0: 10 }));
    await rejects(backend.checkpoint({ position: 'offset-10' as never }), misuse('position', 'Uint8Array'));
    deepStrictEqual(backend.position, encode({ p0: 10 }), 'a refused checkpoint leaves the position');
  }));

  test(`${prefix}checkpoints: a savepoint carries the position, and a restore exposes it`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const backend = await s.open({ job });
    backend.operator(counter).value(count).set('k', 1n);
    await backend.savepoint(s.path('explicit'), { position: encode({ p0: 5 }) });
    deepStrictEqual((await openSavepoint(s.path('explicit'))).metadata.position, encode({ p0: 5 }));
    const restored = await s.open({ job, restoreFrom: s.path('explicit') });
    deepStrictEqual(restored.position, encode({ p0: 5 }));
    equal(restored.operator(counter).value(count).get('k'), 1n);
    // Without one, a savepoint carries the last checkpoint's position.
    await backend.checkpoint({ position: encode({ p0: 7 }) });
    await backend.savepoint(s.path('implicit'));
    deepStrictEqual((await s.open({ job, restoreFrom: s.path('implicit') })).position, encode({ p0: 7 }));
    // And none at all when nothing gave one.
    const fresh = await s.open({ job });
    await fresh.savepoint(s.path('none'));
    equal((await s.open({ job, restoreFrom: s.path('none') })).position, undefined);
  }));

  test(`${prefix}checkpoints: state written before and after a checkpoint reads as one`, session(common, async (s) => {
    const { job, counter, count, events, byDay } = countsJob();
    const backend = await s.open({ job });
    const op = backend.operator(counter);
    for (let i = 0; i < 50; i++) op.value(count).set(`k${i}`, BigInt(i));
    op.list(events).addAll('k', ['a', 'b']);
    op.map(byDay).putAll('k', [['mon', 1], ['tue', 2], ['wed', 3]]);
    await backend.checkpoint();
    // Reads now come from what the checkpoint stored.
    equal(op.value(count).get('k7'), 7n);
    deepStrictEqual(op.list(events).get('k'), ['a', 'b']);
    // Writes after it combine with it.
    op.list(events).add('k', 'c');
    op.map(byDay).put('k', 'thu', 4);
    op.map(byDay).remove('k', 'mon');
    op.value(count).clear('k0');
    op.value(count).update('k1', (c) => (c ?? 0n) + 100n);
    op.value(count).set('new', 1n);
    deepStrictEqual(op.list(events).get('k'), ['a', 'b', 'c']);
    deepStrictEqual(new Map(await collect(op.map(byDay).entries('k'))), new Map([['tue', 2], ['wed', 3], ['thu', 4]]));
    equal(op.map(byDay).contains('k', 'mon'), false);
    equal(op.value(count).get('k0'), undefined);
    equal(op.value(count).get('k1'), 101n);
    const keys = (await collect(op.keys(count))).map((k) => k.key);
    equal(keys.length, 50);
    equal(new Set(keys).size, 50, 'each key once, whether stored before or after the checkpoint');
    equal(keys.includes('k0'), false);
    equal(keys.includes('new'), true);
    await backend.checkpoint();
    op.list(events).update('k', []);
    op.map(byDay).clear('k');
    deepStrictEqual(op.list(events).get('k'), []);
    deepStrictEqual(await collect(op.map(byDay).entries('k')), []);
    // A savepoint holds both.
    op.value(count).set('after', 2n);
    await backend.savepoint(s.path('sp'));
    const r = (await s.open({ job, restoreFrom: s.path('sp') })).operator(counter);
    equal(r.value(count).get('k1'), 101n);
    equal(r.value(count).get('after'), 2n);
    equal(r.value(count).get('k0'), undefined);
    deepStrictEqual(r.list(events).get('k'), []);
  }));

  if (!supports.persistence) return;

  test(`${prefix}checkpoints: reopening the directory gives the last checkpoint's state and position`, session(common, async (s) => {
    const { job, counter, count, events, byDay } = countsJob();
    const dir = await s.dir();
    const backend = await s.open({ job, dir });
    const op = backend.operator(counter);
    for (let i = 0; i < 100; i++) op.value(count).set(`k${i}`, BigInt(i));
    op.list(events).addAll('k', ['a', 'b']);
    op.map(byDay).put('k', 'mon', 1);
    await backend.checkpoint({ position: encode({ p0: 100 }) });
    op.value(count).set('k0', 1000n);
    op.value(count).clear('k1');
    op.list(events).add('k', 'c');
    await backend.checkpoint({ position: encode({ p0: 103 }) });
    await backend.close();

    const reopened = await s.open({ job, dir });
    deepStrictEqual(reopened.position, encode({ p0: 103 }));
    const r = reopened.operator(counter);
    equal(r.value(count).get('k0'), 1000n);
    equal(r.value(count).get('k1'), undefined);
    equal(r.value(count).get('k99'), 99n);
    deepStrictEqual(r.list(events).get('k'), ['a', 'b', 'c']);
    equal(r.map(byDay).get('k', 'mon'), 1);
    equal((await collect(r.keys(count))).length, 99);
  }));

  test(`${prefix}checkpoints: a directory open in one backend is refused to a second until the first closes`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const dir = await s.dir();
    const first = await s.open({ job, dir });
    first.operator(counter).value(count).set('k', 1n);
    await first.checkpoint();
    // Two writers checkpointing in one directory would lose one's state.
    await rejects(s.open({ job, dir }), (error: Error) => error instanceof BackendLockedError && error.code === 'STATESHIFT_LOCKED' && error.message.includes(dir));
    first.operator(counter).value(count).set('k', 2n);
    await first.checkpoint();
    await first.close();
    const second = await s.open({ job, dir });
    equal(second.operator(counter).value(count).get('k'), 2n);
  }));

  test(`${prefix}checkpoints: an open whose restore fails lets the directory go`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const dir = await s.dir();
    await rejects(s.open({ job, dir, restoreFrom: s.path('no-such-savepoint') }), (error: Error) => error.name === 'NotASavepointError');
    const source = await s.open({ job });
    source.operator(counter).value(count).set('k', 1n);
    await source.savepoint(s.path('sp'));
    const backend = await s.open({ job, dir, restoreFrom: s.path('sp') });
    equal(backend.operator(counter).value(count).get('k'), 1n);
  }));

  test(`${prefix}checkpoints: a refused restore leaves an empty or absent directory as it found it: a plain open then starts empty`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const source = await s.open({ job });
    source.operator(counter).value(count).set('k', 1n);
    await source.savepoint(s.path('sp'));
    const otherJob = defineJob({ ...job, name: 'not-counts' });
    const empty = await s.dir();
    const absent = s.path('absent');
    for (const dir of [empty, absent]) {
      await rejects(s.open({ job, dir, restoreFrom: s.path('no-such-savepoint') }), (error: Error) => error.name === 'NotASavepointError');
      await rejects(s.open({ job: otherJob, dir, restoreFrom: s.path('sp') }), (error: Error) => error.name === 'RestoreError' && /not-counts/.test(error.message));
      deepStrictEqual(existsSync(dir) ? readdirSync(dir) : 'absent', dir === empty ? [] : 'absent');
      const backend = await s.open({ job, dir });
      equal(backend.operator(counter).value(count).get('k'), undefined);
      await backend.close();
    }
  }));

  test(`${prefix}checkpoints: a backend opened in a new directory starts empty, without a position`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const first = await s.open({ job });
    first.operator(counter).value(count).set('k', 1n);
    await first.checkpoint({ position: encode({ p0: 1 }) });
    const other = await s.open({ job });
    equal(other.position, undefined);
    equal(other.operator(counter).value(count).get('k'), undefined);
  }));

  test(`${prefix}checkpoints: reopened state carries on, and checkpoints again`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const dir = await s.dir();
    for (let run = 1; run <= 3; run++) {
      const backend = await s.open({ job, dir });
      deepStrictEqual(backend.position, run === 1 ? undefined : encode({ run: run - 1 }));
      const value = backend.operator(counter).value(count);
      equal(value.update('k', (c) => (c ?? 0n) + 1n), BigInt(run));
      await backend.checkpoint({ position: encode({ run }) });
      await backend.close();
    }
  }));
}
