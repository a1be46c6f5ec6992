import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineJob, int32, KeyCollisionError, listState, mapState, operator, string, valueState } from '@stateshift/core';
import { openLsmBackend } from '../src/index.js';
import { countsJob, tempDir } from './helpers.js';

async function savepointOf(n: number) {
  const dir = await tempDir();
  const backend = await openLsmBackend({ job: countsJob(), dir: join(dir, 'db') });
  const op = backend.operator('op');
  for (let i = 0; i < n; i++) {
    op.value('count').set(`k${i}`, i);
    op.list('events').addAll(`k${i}`, [`a${i}`, `b${i}`]);
    op.map('seen').putAll(`k${i}`, [
      ['x', i],
      ['y', 1000 + i],
    ]);
  }
  await backend.savepoint(join(dir, 'sp'));
  await backend.close();
  return { dir, savepoint: join(dir, 'sp') };
}

const intKeyed = (migrateKey: (k: unknown) => number) =>
  defineJob({
    name: 'counts',
    maxParallelism: 32,
    operators: [
      operator({
        uid: 'op',
        key: int32(),
        migrateKey,
        states: [valueState('count', int32()), listState('events', string()), mapState('seen', string(), int32())],
      }),
    ],
  });

test('a key migration re-keys while restoring; lists and maps included; two old keys that become one fail with KeyCollisionError', async () => {
  const { dir, savepoint } = await savepointOf(50);
  const backend = await openLsmBackend({ job: intKeyed((k) => Number(String(k).slice(1))), dir: join(dir, 'rekeyed'), restoreFrom: savepoint });
  const op = backend.operator('op');
  for (let i = 0; i < 50; i++) {
    expect(op.value('count').get(i)).toBe(i);
    expect(op.list('events').get(i)).toEqual([`a${i}`, `b${i}`]);
    expect(op.map('seen').get(i, 'x')).toBe(i);
  }
  await backend.close();
  await expect(openLsmBackend({ job: intKeyed(() => 1), dir: join(dir, 'collides'), restoreFrom: savepoint })).rejects.toThrow(KeyCollisionError);
});
