import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openLsmBackend } from '../src/index.js';
import { countsJob, tempDir } from './helpers.js';

test('map entries merge stored and buffered entries in key order, as they are when entries() is called', async () => {
  const backend = await openLsmBackend({ job: countsJob(), dir: join(await tempDir(), 'db'), writeBufferSize: 3 });
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
