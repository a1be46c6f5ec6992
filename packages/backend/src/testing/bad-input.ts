/**
 * Misuse and bad input: unknown operators and states, the wrong state kind, values a serializer
 * cannot write. Every write is all or nothing, and what `set` accepts is what `get` returns.
 */
import { deepStrictEqual, equal, ok, rejects, throws } from 'node:assert/strict';
import { EncodeError, int32, int64, operator, string, valueState } from '@stateshift/core';
import { coded, collect, misuse, session, type Common } from './common.js';
import { countsJob, valuesJob } from './fixtures.js';

const encodeError = (...mentions: string[]) => coded('EncodeError', 'STATESHIFT_ENCODE_ERROR', ...mentions);

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}bad input: an unknown operator or state and the wrong state kind are TypeErrors naming them`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const backend = await s.open({ job });
    throws(() => backend.operator('nope' as never), misuse('"nope"', 'counter'));
    throws(() => backend.operator(counter).value('nope' as never), misuse('"nope"', 'count'));
    throws(() => backend.operator(counter).list('count' as never), misuse('count', 'value state', 'list'));
    throws(() => backend.operator(counter).map(count as never), misuse('count', 'value state', 'map'));
    // A declaration the job does not hold (same uid, another object) is refused too.
    const stranger = operator({ uid: 'counter', key: string(), states: [valueState('count', int32())] });
    throws(() => backend.operator(stranger as never), misuse('counter'));
    throws(() => backend.operator(counter).value(valueState('count', int64()) as never), misuse('count'));
  }));

  test(`${prefix}bad input: a value of the wrong type fails at set with EncodeError naming operator and state; nothing is written`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const value = (await s.open({ job })).operator(counter).value(count);
    value.set('a', 1n);
    throws(() => value.set('a', 'oops' as never), encodeError('counter', 'count'));
    throws(() => value.set('b', 1 as never), encodeError('counter', 'count'));
    equal(value.get('a'), 1n);
    equal(value.get('b'), undefined);
    throws(() => value.update('a', () => 2 as never), encodeError('counter', 'count'));
    equal(value.get('a'), 1n);
  }));

  test(`${prefix}bad input: a bad field is named by its path, with operator and state`, session(common, async (s) => {
    const { job, users, profile } = valuesJob();
    const value = (await s.open({ job })).operator(users).value(profile);
    throws(() => value.set('u', { name: 5, tags: [] } as never), encodeError('users', 'profile', 'name'));
    throws(() => value.set('u', { name: 'n', tags: ['ok', 7] } as never), encodeError('users', 'profile', 'tags'));
    equal(value.get('u'), undefined);
  }));

  test(`${prefix}bad input: undefined is not a value (clear deletes); a missing key is a TypeError`, session(common, async (s) => {
    const { job, counter, count, events, byDay } = countsJob();
    const op = (await s.open({ job })).operator(counter);
    throws(() => op.value(count).set('a', undefined as never), misuse('clear'));
    throws(() => op.list(events).add('a', undefined as never), misuse('events'));
    throws(() => op.map(byDay).put('a', 'mon', undefined as never), misuse('remove'));
    throws(() => op.value(count).get(undefined as never), misuse('key'));
    throws(() => op.value(count).set(null as never, 1n), misuse('key'));
    throws(() => op.list(events).addAll('a', 'xyz' as never), misuse('array'));
    throws(() => op.map(byDay).putAll('a', 5 as never), misuse('iterable'));
    equal(op.value(count).get('a'), undefined);
    deepStrictEqual(op.list(events).get('a'), []);
  }));

  test(`${prefix}bad input: a key the key serializer cannot write is an EncodeError naming the operator`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const op = (await s.open({ job })).operator(counter);
    throws(() => op.value(count).set(42 as never, 1n), encodeError('counter', 'key'));
    deepStrictEqual(await collect(op.keys(count)), []);
  }));

  test(`${prefix}bad input: string keys and values holding lone surrogates are EncodeErrors, never replaced (no aliasing)`, session(common, async (s) => {
    const { job, counter, count, events } = countsJob();
    const op = (await s.open({ job })).operator(counter);
    // Both would become U+FFFD if replaced, and then share one entry.
    throws(() => op.value(count).set('\uD800', 1n), encodeError('counter', 'key', 'surrogate'));
    throws(() => op.value(count).set('\uDBFF', 2n), encodeError('counter', 'key', 'surrogate'));
    throws(() => op.value(count).get('\uD800'), encodeError('counter', 'key'));
    equal(op.value(count).get('\uFFFD'), undefined);
    throws(() => op.list(events).add('a', 'x\uDC00'), encodeError('counter', 'events', 'surrogate'));
    deepStrictEqual(op.list(events).get('a'), []);
    deepStrictEqual(await collect(op.keys(count)), []);
  }));

  test(`${prefix}bad input: list writes are all or nothing`, session(common, async (s) => {
    const { job, users, ints } = valuesJob();
    const list = (await s.open({ job })).operator(users).list(ints);
    list.update('u', [1, 2]);
    throws(() => list.update('u', [7, 'bad' as never, 9]), encodeError('users', 'ints', 'element 1'));
    deepStrictEqual(list.get('u'), [1, 2], 'a failed update keeps the old list');
    throws(() => list.addAll('u', [3, 2 ** 40]), encodeError('users', 'ints'));
    deepStrictEqual(list.get('u'), [1, 2], 'a failed addAll appends nothing');
    throws(() => list.add('u', 1.5), encodeError('users', 'ints'));
    deepStrictEqual(list.get('u'), [1, 2]);
    throws(() => list.update('v', [1, 'x' as never]), encodeError('users', 'ints'));
    deepStrictEqual(list.get('v'), []);
  }));

  test(`${prefix}bad input: map writes are all or nothing`, session(common, async (s) => {
    const { job, users, intsByName } = valuesJob();
    const map = (await s.open({ job })).operator(users).map(intsByName);
    map.put('u', 'a', 1);
    throws(() => map.putAll('u', [['b', 2], ['c', 'bad' as never], ['d', 4]]), encodeError('users', 'intsByName'));
    deepStrictEqual(new Map(await collect(map.entries('u'))), new Map([['a', 1]]), 'a failed putAll writes no entry');
    throws(() => map.putAll('u', [['b', 2], [17 as never, 3]]), encodeError('users', 'intsByName', 'map key'));
    equal(map.contains('u', 'b'), false);
    throws(() => map.put('u', 'a', 'bad' as never), encodeError('users', 'intsByName'));
    equal(map.get('u', 'a'), 1);
  }));

  test(`${prefix}bad input: a field the type does not declare is refused, never dropped; what set accepts is what get returns (-0 as 0)`, session(common, async (s) => {
    const { job, users, profile, small, ints, intsByName, history } = valuesJob();
    const op = (await s.open({ job })).operator(users);
    op.value(profile).set('u', { name: 'n', tags: ['t'] });
    throws(() => op.value(profile).set('u', { name: 'm', tags: [], extra: 'lost?' } as never), (error: Error) => error instanceof EncodeError && /"extra"/.test(error.message));
    deepStrictEqual(op.value(profile).get('u'), { name: 'n', tags: ['t'] }, 'a refused set leaves the value');
    throws(() => op.list(history).add('u', { name: 'h', tags: [], extra: 1 } as never), (error: Error) => error instanceof EncodeError && /"extra"/.test(error.message));
    deepStrictEqual(op.list(history).get('u'), [], 'a refused add leaves the list');
    op.value(profile).set('u', { name: 'n', tags: ['t'], extra: undefined } as never);
    deepStrictEqual(op.value(profile).get('u'), { name: 'n', tags: ['t'] }, 'an undeclared key holding undefined holds nothing to lose');
    op.value(small).set('u', -0);
    ok(Object.is(op.value(small).get('u'), 0), 'int32 -0 reads back as 0');
    op.list(ints).add('u', -0);
    ok(Object.is(op.list(ints).get('u')[0], 0), 'an int32 list element -0 reads back as 0');
    op.map(intsByName).put('u', 'z', -0);
    ok(Object.is(op.map(intsByName).get('u', 'z'), 0), 'an int32 map value -0 reads back as 0');
  }));

  test(`${prefix}bad input: a handle used after close throws BackendClosedError`, session(common, async (s) => {
    const { job, counter, count, events, byDay } = countsJob();
    const backend = await s.open({ job });
    const op = backend.operator(counter);
    const value = op.value(count);
    const list = op.list(events);
    const map = op.map(byDay);
    value.set('a', 1n);
    await backend.close();
    const closed = () => coded('BackendClosedError', 'STATESHIFT_CLOSED');
    throws(() => value.get('a'), closed());
    throws(() => value.set('a', 2n), closed());
    throws(() => value.update('a', (c) => c ?? 0n), closed());
    throws(() => list.add('a', 'x'), closed());
    throws(() => list.get('a'), closed());
    throws(() => map.put('a', 'mon', 1), closed());
    throws(() => map.contains('a', 'mon'), closed());
    throws(() => backend.operator(counter), closed());
    await rejects(async () => collect(op.keys(count)), closed());
    await rejects(async () => backend.checkpoint(), closed());
    await rejects(async () => backend.savepoint(s.path('sp')), closed());
    // Closing twice is harmless.
    await backend.close();
  }));
}
