/** Value, list and map state per key: what each method returns, missing keys, clearing, key iteration. */
import { deepStrictEqual, equal, ok } from 'node:assert/strict';
import { collect, session, type Common } from './common.js';
import { countsJob } from './fixtures.js';

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}handles: missing keys read as undefined, [] and false`, session(common, async (s) => {
    const { job, counter, count, events, byDay } = countsJob();
    const op = (await s.open({ job })).operator(counter);
    equal(op.value(count).get('nobody'), undefined);
    deepStrictEqual(op.list(events).get('nobody'), []);
    equal(op.map(byDay).get('nobody', 'mon'), undefined);
    equal(op.map(byDay).contains('nobody', 'mon'), false);
    deepStrictEqual(await collect(op.map(byDay).entries('nobody')), []);
    deepStrictEqual(await collect(op.keys(count)), []);
  }));

  test(`${prefix}handles: value state set, get, update (returns the new value) and clear`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const value = (await s.open({ job })).operator(counter).value(count);
    value.set('a', 1n);
    value.set('b', 10n);
    equal(value.get('a'), 1n);
    equal(value.update('a', (c) => (c ?? 0n) + 1n), 2n);
    equal(value.get('a'), 2n);
    equal(value.update('new', (c) => (c === undefined ? 7n : c)), 7n);
    value.clear('a');
    equal(value.get('a'), undefined);
    equal(value.get('b'), 10n, 'clearing one key leaves the others');
    value.clear('never-set');
    equal(value.name, 'count');
  }));

  test(`${prefix}handles: list state add, addAll, update (replaces; [] clears) and clear`, session(common, async (s) => {
    const { job, counter, events } = countsJob();
    const list = (await s.open({ job })).operator(counter).list(events);
    list.add('a', 'x');
    list.addAll('a', ['y', 'z']);
    list.addAll('a', []);
    deepStrictEqual(list.get('a'), ['x', 'y', 'z']);
    list.update('a', ['only']);
    deepStrictEqual(list.get('a'), ['only']);
    list.add('b', 'kept');
    list.update('a', []);
    deepStrictEqual(list.get('a'), []);
    list.add('a', 'again');
    list.clear('a');
    deepStrictEqual(list.get('a'), []);
    deepStrictEqual(list.get('b'), ['kept']);
  }));

  test(`${prefix}handles: map state put, putAll, get, contains, remove, entries and clear`, session(common, async (s) => {
    const { job, counter, byDay } = countsJob();
    const map = (await s.open({ job })).operator(counter).map(byDay);
    map.put('a', 'mon', 1);
    map.putAll('a', [['tue', 2], ['wed', 3]]);
    map.putAll('a', new Map([['mon', 10]]));
    map.remove('a', 'wed');
    map.remove('a', 'never');
    equal(map.get('a', 'mon'), 10);
    equal(map.contains('a', 'tue'), true);
    equal(map.contains('a', 'wed'), false);
    deepStrictEqual(new Map(await collect(map.entries('a'))), new Map([['mon', 10], ['tue', 2]]));
    map.put('b', 'mon', 5);
    map.clear('a');
    equal(map.get('a', 'mon'), undefined);
    deepStrictEqual(await collect(map.entries('a')), []);
    equal(map.get('b', 'mon'), 5);
  }));

  test(`${prefix}handles: keys() lists every key with an entry, per state`, session(common, async (s) => {
    const { job, counter, count, events, byDay } = countsJob();
    const op = (await s.open({ job })).operator(counter);
    for (let i = 0; i < 20; i++) op.value(count).set(`k${i}`, BigInt(i));
    op.value(count).clear('k3');
    op.list(events).add('l', 'e');
    op.map(byDay).put('m', 'mon', 1);
    const keys = (await collect(op.keys(count))).map((k) => k.key).sort();
    deepStrictEqual(keys, Array.from({ length: 20 }, (_, i) => `k${i}`).filter((k) => k !== 'k3').sort());
    deepStrictEqual(await collect(op.keys('events')), [{ key: 'l', namespace: undefined }]);
    deepStrictEqual((await collect(op.keys(byDay))).map((k) => k.key), ['m']);
  }));

  test(`${prefix}handles: iteration sees the entries as they were when it started`, session(common, async (s) => {
    const { job, counter, count, byDay } = countsJob();
    const op = (await s.open({ job })).operator(counter);
    op.map(byDay).putAll('a', [['mon', 1], ['tue', 2]]);
    const seen: [string, number][] = [];
    for await (const entry of op.map(byDay).entries('a')) {
      seen.push(entry);
      op.map(byDay).put('a', 'wed', 3);
      op.map(byDay).put('a', 'mon', 100);
    }
    deepStrictEqual(new Map(seen), new Map([['mon', 1], ['tue', 2]]));
    equal(op.map(byDay).get('a', 'wed'), 3);
    op.value(count).set('k1', 1n);
    const keys: string[] = [];
    for await (const { key } of op.keys(count)) {
      keys.push(key);
      op.value(count).set('k2', 2n);
    }
    deepStrictEqual(keys, ['k1']);
    ok(op.value(count).get('k2') === 2n);
  }));

  test(`${prefix}handles: states are looked up by descriptor or by name, with the same data`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const backend = await s.open({ job });
    backend.operator(counter).value(count).set('a', 3n);
    equal(backend.operator('counter').value('count').get('a'), 3n);
    equal(backend.operator('counter').value(count).update('a', (c) => (c ?? 0n) * 2n), 6n);
    equal(backend.operator(counter).value('count').get('a'), 6n);
    equal(backend.operator(counter).uid, 'counter');
  }));
}
