import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type Serializer, defineJob, int32, listState, mapState, operator, string, valueState } from '@stateshift/core';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stateshift-lsm-'));
  dirs.push(dir);
  return dir;
}

const jobOf = <T>(count: Serializer<T>) =>
  defineJob({
    name: 'counts',
    maxParallelism: 32,
    operators: [
      operator({
        uid: 'op',
        key: string(),
        states: [valueState('count', count), listState('events', string()), mapState('seen', string(), int32())],
      }),
    ],
  });

/** A job with a value, a list and a map state. */
export const countsJob = () => jobOf(int32());
