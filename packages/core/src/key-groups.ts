/**
 * Key groups: the unit of partitioning. A key's group is murmur3_32 (x86, seed 0) of its serialized
 * bytes modulo maxParallelism, so every process and language agrees; operator `i` of `p` owns a
 * contiguous range of groups, so any parallelism can restore any range.
 */

export const MAX_PARALLELISM_LIMIT = 32768;

/** MurmurHash3 x86 32-bit of `bytes` with `seed`, as an unsigned 32-bit number. */
export function murmur3_32(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const n = bytes.length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2] << 16;
    if (tail >= 2) k ^= bytes[blocks + 1] << 8;
    k ^= bytes[blocks];
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkMaxParallelism(maxParallelism: number): void {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_PARALLELISM_LIMIT) {
    throw new RangeError(`maxParallelism must be an integer in 1..${MAX_PARALLELISM_LIMIT}, got ${maxParallelism}`);
  }
}

function checkParallelism(parallelism: number, maxParallelism: number): void {
  checkMaxParallelism(maxParallelism);
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > maxParallelism) {
    throw new RangeError(`parallelism must be an integer in 1..${maxParallelism} (maxParallelism), got ${parallelism}`);
  }
}

/** The key group of a serialized key. */
export function keyGroupOf(keyBytes: Uint8Array, maxParallelism: number): number {
  return murmur3_32(keyBytes) % maxParallelism;
}

/** Which of `parallelism` operator instances owns `keyGroup`. */
export function operatorIndexForKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  checkParallelism(parallelism, maxParallelism);
  if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup >= maxParallelism) {
    throw new RangeError(`keyGroup must be in 0..${maxParallelism - 1}, got ${keyGroup}`);
  }
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** An inclusive range of key groups. */
export interface KeyGroupRange {
  start: number;
  end: number;
}

/** The key groups operator `index` of `parallelism` owns: exactly those `operatorIndexForKeyGroup` maps to it. */
export function keyGroupRangeForOperator(index: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  checkParallelism(parallelism, maxParallelism);
  if (!Number.isInteger(index) || index < 0 || index >= parallelism) {
    throw new RangeError(`operator index must be in 0..${parallelism - 1}, got ${index}`);
  }
  const start = Math.ceil((index * maxParallelism) / parallelism);
  const end = Math.ceil(((index + 1) * maxParallelism) / parallelism) - 1;
  return { start, end };
}

export function keyGroupInRange(keyGroup: number, range: KeyGroupRange): boolean {
  return keyGroup >= range.start && keyGroup <= range.end;
}

/** Parses "a-b" (inclusive) or a single "a". */
export function parseKeyGroupRange(text: string, maxParallelism?: number): KeyGroupRange {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  if (!m) throw new RangeError(`key-group range must look like "a-b" or "a", got "${text}"`);
  const range = { start: Number(m[1]), end: Number(m[2] ?? m[1]) };
  if (range.end < range.start) throw new RangeError(`key-group range "${text}" ends before it starts`);
  if (maxParallelism !== undefined && range.end >= maxParallelism) {
    throw new RangeError(`key-group range "${text}" goes past the last key group ${maxParallelism - 1}`);
  }
  return range;
}

export { checkMaxParallelism };
