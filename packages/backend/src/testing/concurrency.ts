/**
 * Point access is synchronous, so `update` is atomic: updates of one key from interleaved async
 * tasks (or with a forgotten `await`) are never lost.
 */
import { equal } from 'node:assert/strict';
import { session, yieldTurn, type Common } from './common.js';
import { countsJob } from './fixtures.js';

const N = 1000;

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}concurrency: ${N} updates of one key from interleaved async tasks count ${N}`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const value = (await s.open({ job })).operator(counter).value(count);
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        if (i % 3 === 0) await yieldTurn();
        else if (i % 3 === 1) await Promise.resolve();
        value.update('k', (c) => (c ?? 0n) + 1n);
      }),
    );
    equal(value.get('k'), BigInt(N));
  }));

  test(`${prefix}concurrency: updates called without await are not lost`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const value = (await s.open({ job })).operator(counter).value(count);
    for (let i = 0; i < N; i++) void value.update('k', (c) => (c ?? 0n) + 1n);
    equal(value.get('k'), BigInt(N));
  }));

  test(`${prefix}concurrency: list adds and map updates from interleaved tasks are all kept`, session(common, async (s) => {
    const { job, counter, events, byDay } = countsJob();
    const op = (await s.open({ job })).operator(counter);
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        if (i % 2) await yieldTurn();
        op.list(events).add('k', `e${i}`);
        op.map(byDay).put('k', 'mon', (op.map(byDay).get('k', 'mon') ?? 0) + 1);
      }),
    );
    equal(op.list(events).get('k').length, N);
    equal(new Set(op.list(events).get('k')).size, N);
    equal(op.map(byDay).get('k', 'mon'), N);
  }));

  test(`${prefix}concurrency: updates while a savepoint and a checkpoint are written are kept`, session(common, async (s) => {
    const { job, counter, count } = countsJob();
    const backend = await s.open({ job });
    const value = backend.operator(counter).value(count);
    const work = Array.from({ length: N }, async (_, i) => {
      if (i % 2) await yieldTurn();
      value.update('k', (c) => (c ?? 0n) + 1n);
    });
    await Promise.all([backend.savepoint(s.path('sp')), backend.checkpoint(), ...work]);
    equal(value.get('k'), BigInt(N));
  }));
}
