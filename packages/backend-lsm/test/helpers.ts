import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { CorruptSavepointError, type Serializer, defineJob, int32, listState, mapState, operator, string, valueState } from '@stateshift/core';

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

/**
 * Reads `k0`...`k{n-1}` of value state `v` of operator `op` (each holding its index as a bigint)
 * from a backend whose savepoint has a damaged block: some reads fail, each with
 * CorruptSavepointError naming `object` and an offset, and none gives a wrong value.
 */
export function expectDamagedReads(read: (key: string) => unknown, n: number, object: string): void {
  const errors: Error[] = [];
  for (let i = 0; i < n; i++) {
    try {
      expect(read(`k${i}`)).toBe(BigInt(i));
    } catch (error) {
      errors.push(error as Error);
    }
  }
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(error).toBeInstanceOf(CorruptSavepointError);
    expect(error.message).toContain(object);
    expect(error.message).toMatch(/ at offset \d+/);
  }
}
