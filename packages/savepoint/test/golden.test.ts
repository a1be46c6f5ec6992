/**
 * Golden savepoints: test/golden/v<N> holds a savepoint of `sessions` as the release that wrote
 * format version N wrote it. Every release reads every committed version and gets the same entries.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openSavepoint, type RawEntry } from '../src/index.js';
import { sessionEntries, sessions } from './helpers.js';

const goldenDir = fileURLToPath(new URL('./golden', import.meta.url));
const versions = readdirSync(goldenDir).filter((n) => /^v\d+$/.test(n));

const plain = (e: RawEntry): RawEntry => ({ ...e, key: e.key.slice(), namespace: e.namespace.slice(), mapKey: e.mapKey.slice(), value: e.value.slice() });

test.each(versions)('golden savepoint %s reads as written', async (version) => {
  const sp = await openSavepoint(join(goldenDir, version));
  expect(sp.jobName).toBe(sessions.name);
  expect(sp.metadata.createdAt).toBe(1_700_000_000_000);
  for (const { uid, entries } of sessionEntries(6)) {
    const got: RawEntry[] = [];
    for await (const e of sp.entries(uid)) got.push(plain(e));
    expect(got).toEqual(entries);
  }
  await sp.verify();
});
