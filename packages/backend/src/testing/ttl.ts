/**
 * TTL, with the injected clock on every path: writes stamp `now()`, reads and savepoints drop what
 * `now()` says has expired, `onReadAndWrite` reads refresh the stamp, and a restore that turns TTL on
 * stamps values with `now()`. The clock starts far from the real time, so a path that reads
 * `Date.now()` instead of `now()` fails.
 */
import { deepStrictEqual, equal } from 'node:assert/strict';
import { openSavepoint } from '@stateshift/savepoint';
import { collect, session, type Common } from './common.js';
import { countsJob } from './fixtures.js';

const TTL = 1000;
/** Far from Date.now(): a backend that uses the real clock sees every value expired (or never expiring). */
const START = 1_000_000;

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}ttl: values expire by the injected clock on value, list and map state`, session(common, async (s) => {
    let now = START;
    const { job, counter, count, events, byDay } = countsJob({ ttlMs: TTL });
    const op = (await s.open({ job, now: () => now })).operator(counter);
    op.value(count).set('old', 1n);
    op.list(events).add('old', 'e-old');
    op.map(byDay).put('old', 'mon', 1);
    now += 600;
    op.value(count).set('new', 2n);
    op.list(events).add('old', 'e-new');
    op.map(byDay).put('old', 'tue', 2);
    equal(op.value(count).get('old'), 1n, 'alive before its TTL has passed');
    now += 600;
    equal(op.value(count).get('old'), undefined);
    equal(op.value(count).update('old', (c) => (c === undefined ? 10n : c + 1n)), 10n, 'update sees an expired value as missing');
    equal(op.value(count).get('new'), 2n);
    deepStrictEqual(op.list(events).get('old'), ['e-new']);
    equal(op.map(byDay).get('old', 'mon'), undefined);
    equal(op.map(byDay).contains('old', 'mon'), false);
    deepStrictEqual(await collect(op.map(byDay).entries('old')), [['tue', 2]]);
    now += 10_000;
    equal(op.value(count).get('new'), undefined);
    deepStrictEqual(op.list(events).get('old'), []);
    deepStrictEqual(await collect(op.map(byDay).entries('old')), []);
  }));

  for (const type of ['value', 'list', 'map'] as const) {
    test(`${prefix}ttl: onReadAndWrite reads refresh the timestamp (${type} state); onCreateAndWrite reads do not`, session(common, async (s) => {
      const alive: Record<string, boolean> = {};
      for (const update of ['onReadAndWrite', 'onCreateAndWrite'] as const) {
        let now = START;
        const { job, counter, count, events, byDay } = countsJob({ ttlMs: TTL, update });
        const op = (await s.open({ job, now: () => now })).operator(counter);
        const read = (): boolean =>
          type === 'value' ? op.value(count).get('k') !== undefined : type === 'list' ? op.list(events).get('k').length > 0 : op.map(byDay).get('k', 'mon') !== undefined;
        if (type === 'value') op.value(count).set('k', 1n);
        else if (type === 'list') op.list(events).add('k', 'e');
        else op.map(byDay).put('k', 'mon', 1);
        now += 700;
        equal(read(), true);
        now += 700;
        alive[update] = read();
        // After a refreshed read, the value lives TTL from that read, not longer.
        now += TTL;
        equal(read(), false, `${update}: expired one TTL after the last access`);
      }
      equal(alive.onReadAndWrite, true, 'a read refreshed the timestamp, so the value is still alive');
      equal(alive.onCreateAndWrite, false, 'reads do not refresh the timestamp');
    }));
  }

  test(`${prefix}ttl: a savepoint leaves out what the injected clock says has expired`, session(common, async (s) => {
    let now = START;
    const { job, counter, count, events, byDay } = countsJob({ ttlMs: TTL });
    const backend = await s.open({ job, now: () => now });
    const op = backend.operator(counter);
    op.value(count).set('old', 1n);
    op.list(events).add('k', 'e-old');
    op.map(byDay).put('k', 'mon', 1);
    now += 600;
    op.value(count).set('new', 2n);
    op.list(events).add('k', 'e-new');
    op.map(byDay).put('k', 'tue', 2);
    now += 600;
    const location = s.path('sp');
    await backend.savepoint(location);
    const savepoint = await openSavepoint(location);
    equal(savepoint.stateTotals('counter', 'count').entries, 1);
    equal(savepoint.stateTotals('counter', 'events').entries, 1);
    equal(savepoint.stateTotals('counter', 'byDay').entries, 1);
    const r = (await s.open({ job, restoreFrom: location, now: () => now })).operator(counter);
    equal(r.value(count).get('new'), 2n);
    deepStrictEqual(r.list(events).get('k'), ['e-new']);
    // The restored values keep their timestamps: they expire when they would have.
    now += 500;
    equal(r.value(count).get('new'), undefined);
    deepStrictEqual(r.list(events).get('k'), []);
  }));

  test(`${prefix}ttl: turned off, values restore without timestamps; turned on, they get the injected time of the restore`, session(common, async (s) => {
    let now = START;
    const withTtl = countsJob({ ttlMs: TTL });
    const backend = await s.open({ job: withTtl.job, now: () => now });
    backend.operator(withTtl.counter).value(withTtl.count).set('k', 2n);
    backend.operator(withTtl.counter).list(withTtl.events).add('k', 'e');
    backend.operator(withTtl.counter).map(withTtl.byDay).put('k', 'mon', 3);
    const first = s.path('sp1');
    await backend.savepoint(first);

    const without = countsJob();
    now += 100_000;
    const off = await s.open({ job: without.job, restoreFrom: first, now: () => now });
    const o = off.operator(without.counter);
    equal(o.value(without.count).get('k'), 2n, 'no TTL: the value lives on');
    deepStrictEqual(o.list(without.events).get('k'), ['e']);
    const second = s.path('sp2');
    await off.savepoint(second);

    now = START + 500_000;
    const on = (await s.open({ job: withTtl.job, restoreFrom: second, now: () => now })).operator(withTtl.counter);
    equal(on.value(withTtl.count).get('k'), 2n);
    deepStrictEqual(on.list(withTtl.events).get('k'), ['e']);
    equal(on.map(withTtl.byDay).get('k', 'mon'), 3);
    now += TTL - 1;
    equal(on.value(withTtl.count).get('k'), 2n, 'stamped with the injected time of the restore');
    deepStrictEqual(on.list(withTtl.events).get('k'), ['e']);
    equal(on.map(withTtl.byDay).get('k', 'mon'), 3);
    now += 2;
    equal(on.value(withTtl.count).get('k'), undefined, 'expired one TTL after the restore, by the injected clock');
    deepStrictEqual(on.list(withTtl.events).get('k'), []);
    equal(on.map(withTtl.byDay).get('k', 'mon'), undefined);
  }));
}
