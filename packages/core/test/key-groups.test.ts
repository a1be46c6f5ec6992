import { expect, test } from 'vitest';
import { keyGroupOf, keyGroupRangeForOperator, murmur3_32, operatorIndexForKeyGroup, parseKeyGroupRange } from '../src/index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

// Published MurmurHash3 x86_32 vectors (SMHasher; the Wikipedia article's table).
test.each([
  ['', 0, 0],
  ['', 1, 0x514e28b7],
  ['', 0xffffffff, 0x81f16f39],
  ['\0\0\0\0', 0, 0x2362f9de],
  ['a', 0x9747b28c, 0x7fa09ea6],
  ['aa', 0x9747b28c, 0x5d211726],
  ['aaa', 0x9747b28c, 0x283e0130],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['abc', 0, 0xb3dd93fa],
  ['test', 0x9747b28c, 0x704b81dc],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
])('murmur3_32(%j, seed %i)', (input, seed, expected) => {
  expect(murmur3_32(utf8(input), seed)).toBe(expected);
});

test('key groups are murmur3 of the key bytes modulo maxParallelism', () => {
  expect(keyGroupOf(utf8('abc'), 128)).toBe(0xb3dd93fa % 128);
  for (let i = 0; i < 1000; i++) {
    const g = keyGroupOf(utf8(`key-${i}`), 10);
    expect(g).toBeGreaterThanOrEqual(0);
    expect(g).toBeLessThan(10);
  }
});

test.each([
  [1, 128],
  [2, 128],
  [3, 128],
  [7, 100],
  [128, 128],
  [5, 32768],
])('parallelism %i of maxParallelism %i: contiguous ranges, every key group owned exactly once', (parallelism, maxParallelism) => {
  let next = 0;
  for (let index = 0; index < parallelism; index++) {
    const range = keyGroupRangeForOperator(index, parallelism, maxParallelism);
    expect(range.start).toBe(next);
    expect(range.end).toBeGreaterThanOrEqual(range.start - 1);
    for (const g of [range.start, range.end]) if (g >= range.start && g <= range.end) expect(operatorIndexForKeyGroup(g, parallelism, maxParallelism)).toBe(index);
    next = range.end + 1;
  }
  expect(next).toBe(maxParallelism);
});

test('key-group ranges parse from "a-b" and refuse nonsense', () => {
  expect(parseKeyGroupRange('0-63', 128)).toEqual({ start: 0, end: 63 });
  expect(() => parseKeyGroupRange('64-10', 128)).toThrow();
  expect(() => parseKeyGroupRange('0-128', 128)).toThrow();
  expect(() => parseKeyGroupRange('x', 128)).toThrow();
});
