/** A savepoint taken while writes go on holds a consistent cut: the state as it was when it was called. */
import { deepStrictEqual, equal } from 'node:assert/strict';
import { session, yieldTurn, type Common } from './common.js';
import { countsJob } from './fixtures.js';

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}consistent cut: writes made while a savepoint is written are not in it`, session(common, async (s) => {
    const { job, counter, count, events, byDay } = countsJob();
    const backend = await s.open({ job });
    const op = backend.operator(counter);
    for (let i = 0; i < 500; i++) {
      op.value(count).set(`k${i}`, 1n);
      op.list(events).add(`k${i}`, 'before');
      op.map(byDay).put(`k${i}`, 'mon', 1);
    }
    const location = s.path('sp');
    const taking = backend.savepoint(location);
    const writing = (async () => {
      for (let i = 0; i < 500; i++) {
        if (i % 50 === 0) await yieldTurn();
        op.value(count).set(`k${i}`, 2n);
        op.list(events).add(`k${i}`, 'after');
        op.map(byDay).put(`k${i}`, 'mon', 2);
        op.map(byDay).put(`k${i}`, 'tue', 2);
        op.value(count).set(`new-${i}`, 2n);
        if (i % 2) op.value(count).clear(`k${i}`);
      }
    })();
    await Promise.all([taking, writing]);
    equal(op.value(count).get('k0'), 2n);
    const r = (await s.open({ job, restoreFrom: location })).operator(counter);
    for (let i = 0; i < 500; i++) {
      equal(r.value(count).get(`k${i}`), 1n, `k${i} as it was when the savepoint was called`);
      deepStrictEqual(r.list(events).get(`k${i}`), ['before']);
      equal(r.map(byDay).get(`k${i}`, 'mon'), 1);
      equal(r.map(byDay).contains(`k${i}`, 'tue'), false);
      equal(r.value(count).get(`new-${i}`), undefined);
    }
  }));

  test(`${prefix}consistent cut: two savepoints at once each hold their own cut`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const backend = await s.open({ job });
    const value = backend.operator(counter).value(count);
    value.set('k', 1n);
    const first = backend.savepoint(s.path('sp1'));
    value.set('k', 2n);
    const second = backend.savepoint(s.path('sp2'));
    value.set('k', 3n);
    await Promise.all([first, second]);
    equal((await s.open({ job, restoreFrom: s.path('sp1') })).operator(counter).value(count).get('k'), 1n);
    equal((await s.open({ job, restoreFrom: s.path('sp2') })).operator(counter).value(count).get('k'), 2n);
  }));
}
