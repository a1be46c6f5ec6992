// The external sorter behind rescales, key migrations, bootstraps and collision finding: whatever
// it spills, it gives back every entry once, in order, ties in the order they were added.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { RawEntry } from '../src/index.js';
import { EntrySorter, type EntryOrder } from '../src/manage/entry-sorter.js';

const EMPTY = new Uint8Array(0);

const entries = fc.array(
  fc.record({ keyGroup: fc.integer({ min: 0, max: 3 }), key: fc.uint8Array({ max: 3, maxLength: 3 }), value: fc.uint8Array({ maxLength: 8 }) }),
  { maxLength: 200 },
);

/** By the key's first byte, then the key's bytes: a rank that ties often, to exercise both. */
const byKey: EntryOrder = {
  rank: (e) => e.key[0] ?? -1,
  compare: (a, b) => Buffer.compare(a.key, b.key),
};

async function sortAll(input: { keyGroup: number; key: Uint8Array; value: Uint8Array }[], budget: number, order?: EntryOrder): Promise<RawEntry[]> {
  const sorter = new EntrySorter(4, budget, order);
  try {
    // The state index records the position, to check that ties keep it.
    for (const [i, e] of input.entries()) await sorter.add(0, { state: i, keyGroup: e.keyGroup, key: e.key, namespace: EMPTY, mapKey: EMPTY, version: 1, value: e.value });
    const out: RawEntry[] = [];
    for await (const block of sorter.sorted(0)) for (const e of block) out.push({ ...e, key: e.key.slice(), value: e.value.slice() });
    return out;
  } finally {
    await sorter.dispose();
  }
}

describe('EntrySorter', () => {
  test.each([
    ['by key group', undefined],
    ['by key group, then a finer order', byKey],
  ])('%s: every entry once, in order, stable, in memory and spilled', async (_, order) => {
    await fc.assert(
      fc.asyncProperty(entries, fc.constantFrom(64, 1 << 20), async (input, budget) => {
        const expected = input
          .map((e, i) => ({ ...e, state: i }))
          .sort((a, b) => a.keyGroup - b.keyGroup || (order ? byKey.rank(a as RawEntry) - byKey.rank(b as RawEntry) || Buffer.compare(a.key, b.key) : 0) || a.state - b.state);
        const sorted = await sortAll(input, budget, order);
        expect(sorted.map((e) => [e.state, e.keyGroup, [...e.key], [...e.value]])).toEqual(expected.map((e) => [e.state, e.keyGroup, [...e.key], [...e.value]]));
      }),
      { numRuns: 60 },
    );
  });
});
