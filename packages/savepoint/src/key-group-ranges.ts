/** Sets of key groups as sorted, disjoint, non-adjacent ranges (what a partial savepoint covers). */
import type { KeyGroupRange } from '@stateshift/core';
import type { DataFileMetadata } from './metadata.js';

/** Sorts and joins overlapping and adjacent ranges. */
export function normalizeRanges(ranges: readonly KeyGroupRange[]): KeyGroupRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: KeyGroupRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** The key groups of `need` that `have` lacks. */
export function subtractRanges(need: readonly KeyGroupRange[], have: readonly KeyGroupRange[]): KeyGroupRange[] {
  const missing: KeyGroupRange[] = [];
  const covered = normalizeRanges(have);
  for (const r of normalizeRanges(need)) {
    let start = r.start;
    for (const c of covered) {
      if (c.end < start || c.start > r.end) continue;
      if (c.start > start) missing.push({ start, end: c.start - 1 });
      start = c.end + 1;
    }
    if (start <= r.end) missing.push({ start, end: r.end });
  }
  return missing;
}

/** The key groups in both. */
export function intersectRanges(a: readonly KeyGroupRange[], b: readonly KeyGroupRange[]): KeyGroupRange[] {
  const out: KeyGroupRange[] = [];
  for (const x of normalizeRanges(a)) {
    for (const y of normalizeRanges(b)) {
      const start = Math.max(x.start, y.start);
      const end = Math.min(x.end, y.end);
      if (start <= end) out.push({ start, end });
    }
  }
  return normalizeRanges(out);
}

/** Whether the ranges are every key group of `maxParallelism`. */
export function isFullRange(ranges: readonly KeyGroupRange[], maxParallelism: number): boolean {
  const n = normalizeRanges(ranges);
  return n.length === 1 && n[0].start === 0 && n[0].end === maxParallelism - 1;
}

/** "0-63, 96-127" */
export function formatRanges(ranges: readonly KeyGroupRange[]): string {
  return ranges.length ? ranges.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(', ') : 'none';
}

/** Bytes of data per key group of `range` (index `kg - range.start`), from the files' key-group indexes. */
function bytesPerKeyGroup(files: readonly DataFileMetadata[], range: KeyGroupRange): Float64Array {
  const bytes = new Float64Array(range.end - range.start + 1);
  for (const file of files) {
    file.index.forEach(({ keyGroup, offset }, i) => {
      const end = i + 1 < file.index.length ? file.index[i + 1].offset : file.size;
      if (keyGroup >= range.start && keyGroup <= range.end) bytes[keyGroup - range.start] += end - offset;
    });
  }
  return bytes;
}

/**
 * Cuts `range` into at most `parts` consecutive ranges holding about as many bytes of the files
 * each (by their key-group indexes), so that parts of skewed data take about as long. Every key
 * group of `range` is in exactly one part, in order; with no data, the key groups are shared evenly.
 */
export function splitByData(files: readonly DataFileMetadata[], range: KeyGroupRange, parts: number): KeyGroupRange[] {
  if (!Number.isInteger(parts) || parts < 1) throw new TypeError(`parts must be a positive integer, not ${parts}`);
  const size = range.end - range.start + 1;
  const n = Math.min(parts, size);
  const bytes = bytesPerKeyGroup(files, range);
  const total = bytes.reduce((a, b) => a + b, 0);
  // Without data, every key group weighs the same.
  const weight = total > 0 ? (i: number) => bytes[i] : () => 1;
  let rest = total > 0 ? total : size;
  const out: KeyGroupRange[] = [];
  let start = 0;
  for (let part = 0; part < n - 1; part++) {
    // Each part takes the remaining parts' average share, so one heavy key group does not make the others uneven.
    const share = rest / (n - part);
    let i = start;
    let sum = 0;
    // At least one key group; and never so many that a later part would have none.
    do sum += weight(i++);
    while (sum < share && size - i > n - 1 - part);
    out.push({ start: range.start + start, end: range.start + i - 1 });
    rest -= sum;
    start = i;
  }
  out.push({ start: range.start + start, end: range.end });
  return out;
}

/**
 * Per state index, the key groups that more than one of `files` (one operator's data files) may
 * hold entries of: a file may hold a state in a key group when it records entries of the state and
 * its index lists the key group. Stateshift's writers never spread one state's key group over two
 * files (a backend writes a file per state of its own key groups, a bootstrap a file per operator,
 * a split rewrite disjoint ranges), but the format allows it: a reader that relies on it asks here.
 */
export function keyGroupsInSeveralFiles(files: readonly DataFileMetadata[]): Map<number, Set<number>> {
  const holders = new Map<number, Map<number, number>>();
  for (const file of files) {
    file.stateTotals.forEach(({ entries }, state) => {
      if (!entries) return;
      const counts = holders.get(state) ?? new Map<number, number>();
      holders.set(state, counts);
      for (const { keyGroup } of file.index) counts.set(keyGroup, (counts.get(keyGroup) ?? 0) + 1);
    });
  }
  const shared = new Map<number, Set<number>>();
  for (const [state, counts] of holders) {
    const groups = new Set([...counts].filter(([, n]) => n > 1).map(([keyGroup]) => keyGroup));
    if (groups.size) shared.set(state, groups);
  }
  return shared;
}
