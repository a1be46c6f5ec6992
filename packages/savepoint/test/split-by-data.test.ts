// How `stateshift migrate --workers n` cuts the key groups into parts: by the bytes the files hold
// per key group, so that a few heavy key groups do not leave one worker with most of the work.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { keyGroupsInSeveralFiles, splitByData, type DataFileMetadata } from '../src/index.js';

/** A file of `range` whose key group `kg` holds `sizes[kg - range.start]` bytes (none where 0). */
function fileOf(range: { start: number; end: number }, sizes: number[]): DataFileMetadata {
  const index: DataFileMetadata['index'] = [];
  let offset = 13;
  sizes.forEach((size, i) => {
    if (size > 0) index.push({ keyGroup: range.start + i, offset });
    offset += size;
  });
  return { name: 'f.dat', operator: 0, range, entries: 0, size: offset, checksum: 0, id: new Uint8Array(16), index, stateTotals: [] };
}

describe('splitByData', () => {
  test('parts of about equal bytes, not equal key groups', () => {
    // Key group 0 holds as much as the other seven together.
    const file = fileOf({ start: 0, end: 7 }, [700, 100, 100, 100, 100, 100, 100, 100]);
    expect(splitByData([file], { start: 0, end: 7 }, 2)).toEqual([
      { start: 0, end: 0 },
      { start: 1, end: 7 },
    ]);
    expect(splitByData([file], { start: 0, end: 7 }, 4)).toEqual([
      { start: 0, end: 0 },
      { start: 1, end: 3 },
      { start: 4, end: 5 },
      { start: 6, end: 7 },
    ]);
  });

  test('the bytes of every file count, and only those inside the range', () => {
    const a = fileOf({ start: 0, end: 3 }, [0, 0, 0, 600]);
    const b = fileOf({ start: 4, end: 7 }, [600, 0, 0, 0]);
    expect(splitByData([a, b], { start: 2, end: 7 }, 2)).toEqual([
      { start: 2, end: 3 },
      { start: 4, end: 7 },
    ]);
  });

  test('with no data, key groups are shared evenly; never more parts than key groups', () => {
    expect(splitByData([], { start: 0, end: 127 }, 4).map((r) => r.end - r.start + 1)).toEqual([32, 32, 32, 32]);
    expect(splitByData([], { start: 5, end: 6 }, 8)).toEqual([
      { start: 5, end: 5 },
      { start: 6, end: 6 },
    ]);
  });

  test('a wrong count of parts is a TypeError', () => {
    expect(() => splitByData([], { start: 0, end: 7 }, 0)).toThrow(TypeError);
    expect(() => splitByData([], { start: 0, end: 7 }, 1.5)).toThrow(TypeError);
  });

  test('property: every key group in exactly one part, in order, as many parts as asked (or key groups), none much above its share', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 64 }),
        fc.nat({ max: 16 }),
        fc.integer({ min: 1, max: 20 }),
        (sizes, start, parts) => {
          const range = { start, end: start + sizes.length - 1 };
          const out = splitByData([fileOf(range, sizes)], range, parts);
          expect(out.length).toBe(Math.min(parts, sizes.length));
          expect(out[0].start).toBe(range.start);
          expect(out[out.length - 1].end).toBe(range.end);
          for (const [i, r] of out.entries()) {
            expect(r.start).toBeLessThanOrEqual(r.end);
            if (i > 0) expect(r.start).toBe(out[i - 1].end + 1);
          }
          // A part goes past its share by at most its last key group.
          const total = sizes.reduce((a, b) => a + b, 0);
          if (total > 0) {
            for (const r of out) {
              const held = sizes.slice(r.start - start, r.end - start + 1);
              const bytes = held.reduce((a, b) => a + b, 0);
              expect(bytes - held[held.length - 1]).toBeLessThan(total / out.length + 1e-9);
            }
          }
        },
      ),
    );
  });
});

// Which key groups of a state more than one data file may hold: where a reader cannot forget a key
// group's lists once the entries move on (the LSM backend's restore).
describe('keyGroupsInSeveralFiles', () => {
  const holding = (sizes: number[], states: number[]) => ({ ...fileOf({ start: 0, end: sizes.length - 1 }, sizes), stateTotals: states.map((entries) => ({ entries, bytes: entries })) });
  test('a state in key groups that two files index', () => {
    // State 0 in both files (key groups 1 and 2 in both), state 1 only in the first, state 2 only in the second.
    const a = holding([10, 10, 10, 0], [5, 3]);
    const b = holding([0, 10, 10, 10], [4, 0, 2]);
    expect(keyGroupsInSeveralFiles([a, b])).toEqual(new Map([[0, new Set([1, 2])]]));
  });
  test('one file per state, or disjoint ranges: none', () => {
    expect(keyGroupsInSeveralFiles([holding([10, 10], [5]), holding([10, 10], [0, 5])]).size).toBe(0);
    expect(keyGroupsInSeveralFiles([holding([10, 0], [5]), holding([0, 10], [5])]).size).toBe(0);
  });
});
