import { join } from 'node:path';
import { expect, test } from 'vitest';
import { BackendClosedError, EncodeError } from '@stateshift/core';
import { openLsmBackend } from '../src/index.js';
import { countsJob, tempDir } from './helpers.js';

test('value, list and map state: synchronous reads see the writes before any checkpoint', async () => {
  const backend = await openLsmBackend({ job: countsJob(), dir: join(await tempDir(), 'db') });
  const op = backend.operator('op');
  const count = op.value('count');
  expect(count.get('a')).toBeUndefined();
  count.set('a', 1);
  expect(count.update('a', (c) => (c ?? 0) + 1)).toBe(2);
  expect(count.get('a')).toBe(2);
  count.clear('a');
  expect(count.get('a')).toBeUndefined();

  const events = op.list('events');
  expect(events.get('a')).toEqual([]);
  events.add('a', 'x');
  events.addAll('a', ['y', 'z']);
  expect(events.get('a')).toEqual(['x', 'y', 'z']);
  events.update('a', ['z']);
  expect(events.get('a')).toEqual(['z']);
  events.update('a', []);
  expect(events.get('a')).toEqual([]);

  const seen = op.map('seen');
  seen.put('a', 'p', 1);
  seen.putAll('a', [
    ['q', 2],
    ['r', 3],
  ]);
  seen.remove('a', 'q');
  expect(seen.get('a', 'p')).toBe(1);
  expect(seen.contains('a', 'q')).toBe(false);
  const entries: [string, number][] = [];
  for await (const e of seen.entries('a')) entries.push(e);
  expect(entries).toEqual([
    ['p', 1],
    ['r', 3],
  ]);
  await backend.close();
});

test('1000 updates of one key end at 1000, and a wrong value fails at set with nothing written', async () => {
  const backend = await openLsmBackend({ job: countsJob(), dir: join(await tempDir(), 'db') });
  const count = backend.operator('op').value('count');
  for (let i = 0; i < 1000; i++) count.update('k', (c) => (c ?? 0) + 1);
  expect(count.get('k')).toBe(1000);
  expect(() => count.set('k', 'oops' as never)).toThrow(EncodeError);
  expect(count.get('k')).toBe(1000);
  await backend.close();
  expect(() => count.get('k')).toThrow(BackendClosedError);
});

test('keys lists every key once, including buffered writes, and not keys cleared since', async () => {
  const backend = await openLsmBackend({ job: countsJob(), dir: join(await tempDir(), 'db') });
  const op = backend.operator('op');
  for (let i = 0; i < 20; i++) op.map('seen').putAll(`k${i}`, [['a', 1], ['b', 2]]);
  await backend.checkpoint();
  op.map('seen').clear('k3');
  op.map('seen').put('k20', 'a', 1);
  const keys: string[] = [];
  for await (const { key } of op.keys('seen')) keys.push(key);
  expect(keys.sort()).toEqual(Array.from({ length: 21 }, (_, i) => `k${i}`).filter((k) => k !== 'k3').sort());
  await backend.close();
});

test('map entries merge stored and buffered entries in key order, as they are when entries() is called', async () => {
  const backend = await openLsmBackend({ job: countsJob(), dir: join(await tempDir(), 'db'), writeBufferSize: { entries: 3 } });
  const seen = backend.operator('op').map('seen');
  const all = async (key: string) => {
    const out: [string, number][] = [];
    for await (const e of seen.entries(key)) out.push(e);
    return out;
  };
  seen.putAll('a', [['b', 1], ['d', 2], ['f', 3], ['h', 4]]);
  await backend.checkpoint();
  seen.put('a', 'a', 10);
  seen.put('a', 'd', 20);
  seen.remove('a', 'f');
  seen.put('a', 'z', 30);
  seen.put('other', 'c', 1);
  const cut = seen.entries('a');
  seen.put('a', 'c', 99);
  const before: unknown[] = [];
  for await (const e of cut) before.push(e);
  expect(before).toEqual([['a', 10], ['b', 1], ['d', 20], ['h', 4], ['z', 30]]);
  expect(await all('a')).toEqual([['a', 10], ['b', 1], ['c', 99], ['d', 20], ['h', 4], ['z', 30]]);
  seen.clear('a');
  seen.put('a', 'q', 1);
  expect(await all('a')).toEqual([['q', 1]]);
  await backend.checkpoint();
  expect(await all('a')).toEqual([['q', 1]]);
  expect(await all('other')).toEqual([['c', 1]]);
  await backend.close();
});
