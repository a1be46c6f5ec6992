/** Namespaces (windows, timers): separate values per key and namespace. */
import { deepStrictEqual, equal, throws } from 'node:assert/strict';
import { collect, misuse, session, type Common } from './common.js';
import { countsJob } from './fixtures.js';

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}namespaces: each namespace of a key keeps its own value`, session(common, async (s) => {
    const { job, windows, sum } = countsJob();
    const value = (await s.open({ job })).operator(windows).value(sum);
    value.set('a', 1n, 10n);
    value.set('a', 2n, 20n);
    value.set('b', 3n, 10n);
    equal(value.get('a', 10n), 1n);
    equal(value.get('a', 20n), 2n);
    equal(value.get('a', 30n), undefined);
    equal(value.update('a', (c) => (c ?? 0n) + 5n, 20n), 7n);
    equal(value.get('a', 10n), 1n);
    value.clear('a', 10n);
    equal(value.get('a', 10n), undefined);
    equal(value.get('a', 20n), 7n);
    equal(value.get('b', 10n), 3n);
  }));

  test(`${prefix}namespaces: keys() yields each key with its namespace`, session(common, async (s) => {
    const { job, windows, sum } = countsJob();
    const op = (await s.open({ job })).operator(windows);
    op.value(sum).set('a', 1n, 10n);
    op.value(sum).set('a', 2n, 20n);
    op.value(sum).set('b', 2n, 20n);
    const seen = (await collect(op.keys(sum))).map(({ key, namespace }) => `${key}@${namespace}`).sort();
    deepStrictEqual(seen, ['a@10', 'a@20', 'b@20']);
  }));

  test(`${prefix}namespaces: an operator without a namespace serializer refuses a namespace`, session(common, async (s) => {
    const { job } = countsJob();
    const value = (await s.open({ job })).operator('counter').value('count');
    throws(() => value.set('a', 1n, 5n as never), misuse('counter', 'namespace'));
    equal(value.get('a'), undefined);
  }));
}
