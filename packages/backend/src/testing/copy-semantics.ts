/** Values are copied in and out: mutating a value after `set` (or `add`, `put`) or after `get` leaves the state as it was. */
import { deepStrictEqual } from 'node:assert/strict';
import { session, type Common } from './common.js';
import { valuesJob, type Profile } from './fixtures.js';

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}copy semantics: objects, arrays, Maps and bytes mutated after set do not change the state`, session(common, async (s) => {
    const { job, users, profile, numbers, scores, blob } = valuesJob();
    const op = (await s.open({ job })).operator(users);
    const p: Profile = { name: 'ann', tags: ['a'] };
    const n = [1, 2, 3];
    const m = new Map([['x', 1]]);
    const b = new Uint8Array([1, 2, 3]);
    op.value(profile).set('u', p);
    op.value(numbers).set('u', n);
    op.value(scores).set('u', m);
    op.value(blob).set('u', b);
    p.name = 'changed';
    p.tags.push('b');
    n.push(4);
    n[0] = 9;
    m.set('y', 2);
    m.set('x', 7);
    b[0] = 99;
    deepStrictEqual(op.value(profile).get('u'), { name: 'ann', tags: ['a'] });
    deepStrictEqual(op.value(numbers).get('u'), [1, 2, 3]);
    deepStrictEqual(op.value(scores).get('u'), new Map([['x', 1]]));
    deepStrictEqual(op.value(blob).get('u'), new Uint8Array([1, 2, 3]));
  }));

  test(`${prefix}copy semantics: objects, arrays, Maps and bytes mutated after get do not change the state`, session(common, async (s) => {
    const { job, users, profile, numbers, scores, blob } = valuesJob();
    const op = (await s.open({ job })).operator(users);
    op.value(profile).set('u', { name: 'ann', tags: ['a'] });
    op.value(numbers).set('u', [1, 2, 3]);
    op.value(scores).set('u', new Map([['x', 1]]));
    op.value(blob).set('u', new Uint8Array([1, 2, 3]));
    const p = op.value(profile).get('u')!;
    p.name = 'changed';
    p.tags.push('b');
    op.value(numbers).get('u')!.push(4);
    op.value(scores).get('u')!.set('y', 2);
    op.value(blob).get('u')![0] = 99;
    deepStrictEqual(op.value(profile).get('u'), { name: 'ann', tags: ['a'] });
    deepStrictEqual(op.value(numbers).get('u'), [1, 2, 3]);
    deepStrictEqual(op.value(scores).get('u'), new Map([['x', 1]]));
    deepStrictEqual(op.value(blob).get('u'), new Uint8Array([1, 2, 3]));
    // update's function gets a copy too.
    op.value(profile).update('u', (current) => {
      current!.tags.push('seen-by-update');
      return { name: 'new', tags: [] };
    });
    deepStrictEqual(op.value(profile).get('u'), { name: 'new', tags: [] });
  }));

  test(`${prefix}copy semantics: list elements and map values are copied in and out`, session(common, async (s) => {
    const { job, users, history, byName } = valuesJob();
    const op = (await s.open({ job })).operator(users);
    const first: Profile = { name: 'a', tags: ['x'] };
    const all = [first, { name: 'b', tags: [] }];
    op.list(history).add('u', first);
    op.list(history).addAll('u', all);
    first.tags.push('changed');
    all.push({ name: 'c', tags: [] });
    deepStrictEqual(op.list(history).get('u'), [{ name: 'a', tags: ['x'] }, { name: 'a', tags: ['x'] }, { name: 'b', tags: [] }]);
    const got = op.list(history).get('u');
    got[0].name = 'changed';
    got.pop();
    deepStrictEqual(op.list(history).get('u').length, 3);
    deepStrictEqual(op.list(history).get('u')[0].name, 'a');
    const replacement = [{ name: 'r', tags: ['t'] }];
    op.list(history).update('u', replacement);
    replacement[0].tags.push('changed');
    deepStrictEqual(op.list(history).get('u'), [{ name: 'r', tags: ['t'] }]);

    const v: Profile = { name: 'm', tags: [] };
    op.map(byName).put('u', 'k', v);
    op.map(byName).putAll('u', [['j', v]]);
    v.tags.push('changed');
    op.map(byName).get('u', 'k')!.tags.push('changed');
    deepStrictEqual(op.map(byName).get('u', 'k'), { name: 'm', tags: [] });
    deepStrictEqual(op.map(byName).get('u', 'j'), { name: 'm', tags: [] });
    for await (const [, value] of op.map(byName).entries('u')) value.tags.push('changed');
    deepStrictEqual(op.map(byName).get('u', 'j'), { name: 'm', tags: [] });
  }));
}
