/**
 * Re-keying while restoring: keys and map keys that migrate move every entry to its new key, lists
 * stay whole and in order, and two old keys that become one are refused, naming both, or merged
 * where the state gives `mergeOnCollision` (a map state's entries join unless a map key repeats).
 */
import { deepStrictEqual, equal, ok, rejects } from 'node:assert/strict';
import { defineJob, int32, keyGroupInRange, keyGroupRangeForOperator, listState, mapState, operator, string, valueState, type StateBackend } from '@stateshift/core';
import { coded, collect, keyGroupOfKey, session, type Common, type Session } from './common.js';
import { MAX_PARALLELISM } from './fixtures.js';

/** Keys "<letter>-<n>" become the number n: "a-1" and "b-1" collide. */
const numberOf = (old: unknown) => Number(String(old).split('-')[1]);

interface Merges {
  total?: (a: number, b: number) => number;
  events?: (a: string[], b: string[]) => string[];
  items?: (a: number, b: number) => number;
}

function cartsJob(rekeyed: boolean, options: { merges?: Merges; mapKeys?: boolean } = {}) {
  const { merges = {}, mapKeys = false } = options;
  const states = [
    valueState('total', int32(), merges.total ? { mergeOnCollision: merges.total } : {}),
    listState('events', string(), merges.events ? { mergeOnCollision: merges.events } : {}),
    mapKeys
      ? mapState('items', int32(), int32(), { migrateKey: (old) => String(old).length, ...(merges.items ? { mergeOnCollision: merges.items } : {}) })
      : mapState('items', string(), int32(), merges.items ? { mergeOnCollision: merges.items } : {}),
  ];
  const carts = rekeyed ? operator({ uid: 'carts', key: int32(), migrateKey: numberOf, states }) : operator({ uid: 'carts', key: string(), states });
  return defineJob({ name: 'shop', maxParallelism: MAX_PARALLELISM, operators: [carts] });
}

interface Cart {
  total?: number;
  events?: string[];
  items?: [string, number][];
}

/** A savepoint of the string-keyed job holding `carts`, written by the backend under test. */
async function savepointOf(s: Session, name: string, carts: Record<string, Cart>): Promise<string> {
  const backend = await s.open({ job: cartsJob(false) });
  const op = backend.operator('carts');
  for (const [key, cart] of Object.entries(carts)) {
    if (cart.total !== undefined) op.value('total').set(key, cart.total);
    if (cart.events) op.list('events').addAll(key, cart.events);
    if (cart.items) op.map('items').putAll(key, cart.items);
  }
  const location = s.path(name);
  await backend.savepoint(location);
  return location;
}

async function cartOf(backend: StateBackend, key: number) {
  const op = backend.operator('carts');
  return { total: op.value('total').get(key), events: op.list('events').get(key), items: Object.fromEntries(await collect(op.map('items').entries(key))) };
}

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}rekeying: migrated keys hold every entry, lists whole and in order, each key in the one instance that serves it`, session(common, async (s) => {
    const carts: Record<string, Cart> = {};
    for (let i = 0; i < 200; i++) carts[`u-${i}`] = { total: i, events: Array.from({ length: 1 + (i % 7) }, (_, e) => `e${i}.${e}`), items: [['x', i], ['y', -i - 1]] };
    const location = await savepointOf(s, 'sp', carts);
    const job = cartsJob(true);
    const seen: number[] = [];
    for (const index of [0, 1]) {
      const part = await s.open({ job, restoreFrom: location, parallelism: 2, index });
      const range = keyGroupRangeForOperator(index, 2, job.maxParallelism);
      const keys = (await collect(part.operator('carts').keys('total'))).map((k) => k.key as number);
      for (const k of keys) {
        ok(keyGroupInRange(keyGroupOfKey(int32(), k, job.maxParallelism), range), `${k} is served by instance ${index}`);
        const cart = carts[`u-${k}`];
        deepStrictEqual(await cartOf(part, k), { total: cart.total, events: cart.events, items: Object.fromEntries(cart.items!) }, `key ${k}`);
      }
      deepStrictEqual((await collect(part.operator('carts').keys('events'))).map((k) => k.key).sort(), [...keys].sort());
      seen.push(...keys);
    }
    deepStrictEqual(seen.sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i));
  }));

  test(`${prefix}rekeying: two old keys that become one are refused, naming both, in value, list and map state`, session(common, async (s) => {
    const cases: Record<string, Cart>[] = [
      { 'a-1': { total: 1 }, 'b-1': { total: 2 }, 'c-2': { total: 3 } },
      { 'a-1': { events: ['x', 'y'] }, 'b-1': { events: ['z'] }, 'c-2': { events: ['w'] } },
      { 'a-1': { items: [['p', 1]] }, 'b-1': { items: [['p', 2]] }, 'c-2': { items: [['p', 3]] } },
    ];
    for (const [i, carts] of cases.entries()) {
      const location = await savepointOf(s, `sp-${i}`, carts);
      const state = ['total', 'events', 'items'][i];
      await rejects(s.open({ job: cartsJob(true), restoreFrom: location }), coded('KeyCollisionError', 'STATESHIFT_KEY_COLLISION', `state "${state}"`, '"a-1"', '"b-1"', 'mergeOnCollision'));
    }
    // Map entries under different map keys lose nothing when their keys become one: they join.
    const joined = await s.open({ job: cartsJob(true), restoreFrom: await savepointOf(s, 'sp-joined', { 'a-1': { items: [['p', 1]] }, 'b-1': { items: [['q', 2]] } }) });
    deepStrictEqual((await cartOf(joined, 1)).items, { p: 1, q: 2 });
  }));

  test(`${prefix}rekeying: map keys that become one under one key are refused as map keys`, session(common, async (s) => {
    const location = await savepointOf(s, 'sp', { 'a-1': { items: [['xy', 1], ['zz', 2]] }, 'b-2': { items: [['zz', 3]] } });
    await rejects(s.open({ job: cartsJob(true, { mapKeys: true }), restoreFrom: location }), coded('KeyCollisionError', 'STATESHIFT_KEY_COLLISION', 'map key', '"xy"', '"zz"'));
  }));

  test(`${prefix}rekeying: with mergeOnCollision, what collides is merged in value, list and map state`, session(common, async (s) => {
    const location = await savepointOf(s, 'sp', {
      'a-1': { total: 1, events: ['x1', 'x2'], items: [['p', 1]] },
      'b-1': { total: 2, events: ['y1'], items: [['p', 2], ['q', 3]] },
      'c-2': { total: 5, events: ['z'], items: [['p', 7]] },
    });
    const merges: Merges = { total: (a, b) => a + b, events: (a, b) => [...a, ...b], items: (a, b) => a * 10 + b };
    const backend = await s.open({ job: cartsJob(true, { merges }), restoreFrom: location });
    const one = await cartOf(backend, 1);
    equal(one.total, 3);
    // Which old key is merged first is not fixed: both orders are the same merge.
    ok(['x1,x2,y1', 'y1,x1,x2'].includes(one.events.join()), `merged list ${one.events.join()}`);
    ok([12, 21].includes(one.items.p), `merged map value ${one.items.p}`);
    equal(one.items.q, 3);
    deepStrictEqual(await cartOf(backend, 2), { total: 5, events: ['z'], items: { p: 7 } });
  }));
}
