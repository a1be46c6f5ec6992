/** Rescaling: instances of a higher parallelism restore their own key groups of a savepoint, and only those. */
import { deepStrictEqual, equal, ok, rejects, throws } from 'node:assert/strict';
import { keyGroupInRange, keyGroupRangeForOperator, string } from '@stateshift/core';
import { coded, collect, keyGroupOfKey, misuse, session, type Common } from './common.js';
import { countsJob } from './fixtures.js';

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}rescaling: two instances of parallelism 2 together see every key exactly once`, session(common, async (s) => {
    const { job, counter, count, byDay } = countsJob();
    const backend = await s.open({ job });
    const users = Array.from({ length: 100 }, (_, i) => `user-${i}`);
    for (const u of users) {
      backend.operator(counter).value(count).set(u, 1n);
      backend.operator(counter).map(byDay).put(u, 'mon', 1);
    }
    const location = s.path('sp');
    await backend.savepoint(location);
    const seen: string[] = [];
    for (const index of [0, 1]) {
      const part = await s.open({ job, restoreFrom: location, parallelism: 2, index });
      const range = keyGroupRangeForOperator(index, 2, job.maxParallelism);
      deepStrictEqual(part.keyGroupRange, range);
      const keys = (await collect(part.operator(counter).keys(count))).map((k) => k.key);
      for (const k of keys) ok(keyGroupInRange(keyGroupOfKey(string(), k, job.maxParallelism), range), `${k} is served by instance ${index}`);
      deepStrictEqual((await collect(part.operator(counter).keys(byDay))).map((k) => k.key).sort(), [...keys].sort());
      seen.push(...keys);
      const inside = users.find((u) => keyGroupInRange(keyGroupOfKey(string(), u, job.maxParallelism), range))!;
      equal(part.operator(counter).value(count).get(inside), 1n);
      const outside = users.find((u) => !keyGroupInRange(keyGroupOfKey(string(), u, job.maxParallelism), range))!;
      throws(() => part.operator(counter).value(count).get(outside), coded('KeyGroupError', 'STATESHIFT_KEY_GROUP_NOT_SERVED', 'key group'));
      throws(() => part.operator(counter).value(count).set(outside, 2n), coded('KeyGroupError', 'STATESHIFT_KEY_GROUP_NOT_SERVED'));
    }
    deepStrictEqual(seen.sort(), [...users].sort());
  }));

  test(`${prefix}rescaling: an instance writes its own key groups and its savepoint restores them`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const users = Array.from({ length: 60 }, (_, i) => `user-${i}`);
    const source = await s.open({ job });
    for (const u of users) source.operator(counter).value(count).set(u, 1n);
    await source.savepoint(s.path('sp'));
    // Each instance of parallelism 3 updates its own keys and writes a savepoint of them, which restores.
    const total = new Map<string, bigint>();
    for (const index of [0, 1, 2]) {
      const part = await s.open({ job, restoreFrom: s.path('sp'), parallelism: 3, index });
      const mine = (await collect(part.operator(counter).keys(count))).map((k) => k.key);
      for (const k of mine) part.operator(counter).value(count).update(k, (c) => (c ?? 0n) + BigInt(index + 1));
      await part.savepoint(s.path(`part-${index}`));
      const back = await s.open({ job, restoreFrom: s.path(`part-${index}`), parallelism: 3, index });
      for (const k of mine) total.set(k, back.operator(counter).value(count).get(k)!);
    }
    equal(total.size, users.length);
    for (const u of users) {
      const index = Math.floor((keyGroupOfKey(string(), u, job.maxParallelism) * 3) / job.maxParallelism);
      equal(total.get(u), 1n + BigInt(index + 1), u);
    }
  }));

  test(`${prefix}rescaling: bad parallelism or index is a TypeError`, session(common, async (s) => {
    const { job } = countsJob();
    await rejects(s.open({ job, parallelism: 0 }), misuse('parallelism'));
    await rejects(s.open({ job, parallelism: 2, index: 2 }), misuse('index'));
    await rejects(s.open({ job, parallelism: job.maxParallelism + 1 }), misuse('parallelism'));
  }));
}
