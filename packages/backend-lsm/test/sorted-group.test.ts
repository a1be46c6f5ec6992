// The packed, sorted key group the lower layer keeps for reads in place, against a plain model.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { SortedGroup } from '../src/sorted-group.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
// Short keys over few byte values, so that keys repeat and prefix one another.
const key = fc.uint8Array({ minLength: 0, maxLength: 5, max: 3 });
const entries = fc.array(fc.tuple(key, fc.uint8Array({ maxLength: 6 })), { maxLength: 60 });

test('a point read finds the last value stored under a key, and nothing for a key not stored', () => {
  fc.assert(
    fc.property(entries, fc.array(key), (list, probes) => {
      const group = SortedGroup.of(
        list.map(([k]) => k),
        list.map(([, v]) => v),
      );
      const model = new Map(list.map(([k, v]) => [hex(k), v]));
      expect(group.size).toBe(model.size);
      for (const k of [...list.map(([k]) => k), ...probes]) expect(group.get(k)).toEqual(model.get(hex(k)));
    }),
  );
});

test('a scan under a prefix gives the keys that begin with it, ascending, each with its last value', () => {
  fc.assert(
    fc.property(entries, key, (list, prefix) => {
      const group = SortedGroup.of(
        list.map(([k]) => k),
        list.map(([, v]) => v),
      );
      const model = new Map(list.map(([k, v]) => [hex(k), v]));
      const expected = [...model.keys()].filter((k) => k.startsWith(hex(prefix))).sort();
      const { keys, values } = group.under(prefix);
      expect(keys.map(hex)).toEqual(expected);
      expect(values).toEqual(expected.map((k) => model.get(k)));
    }),
  );
});

test('a value read is a copy: it stays as it was whatever is done with the group', () => {
  const group = SortedGroup.of([new Uint8Array([1]), new Uint8Array([2])], [new Uint8Array([10, 11]), new Uint8Array([20])]);
  const value = group.get(new Uint8Array([1]))!;
  value[0] = 99;
  expect(group.get(new Uint8Array([1]))).toEqual(new Uint8Array([10, 11]));
  expect(group.byteLength).toBe(5 + 5 * 4);
});
