import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DataOutput, defineJob, int32, KeyCollisionError, keyGroupOf, listState, mapState, operator, RestoreError, string, valueState } from '@stateshift/core';
import { FIRST_VERSION, layoutOfJob, writeSavepointEntries, type RawEntry } from '@stateshift/savepoint';
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

test('a list whose elements are not stored together is refused, re-keyed or not, naming the state', async () => {
  const dir = await tempDir();
  const job = countsJob();
  const bytesOf = (write: (out: DataOutput) => void) => {
    const out = new DataOutput();
    write(out);
    return out.toBytes();
  };
  const keyBytes = (k: string) => bytesOf((o) => string().serialize(k, o));
  const keyGroup = keyGroupOf(keyBytes('k1'), job.maxParallelism);
  // Another key of k1's key group, so that its element can sit between two of k1's.
  const other = Array.from({ length: 1000 }, (_, i) => `k${i + 2}`).find((k) => keyGroupOf(keyBytes(k), job.maxParallelism) === keyGroup)!;
  const element = (k: string, s: string): RawEntry => ({
    state: 1,
    keyGroup,
    key: keyBytes(k),
    namespace: new Uint8Array(0),
    mapKey: new Uint8Array(0),
    version: FIRST_VERSION,
    value: bytesOf((o) => string().serialize(s, o)),
  });
  await writeSavepointEntries(join(dir, 'sp'), layoutOfJob(job), { start: 0, end: job.maxParallelism - 1 }, [{ uid: 'op', entries: [element('k1', 'a'), element(other, 'x'), element('k1', 'b')] }]);
  for (const [name, restoring] of [['as stored', job], ['re-keyed', intKeyed((k) => Number(String(k).slice(1)))]] as const) {
    const error = await openLsmBackend({ job: restoring, dir: join(dir, name), restoreFrom: join(dir, 'sp') }).catch((e: unknown) => e);
    expect(error, name).toBeInstanceOf(RestoreError);
    expect((error as Error).message, name).toMatch(/state "events": the elements of one list are not stored together/);
  }
});
