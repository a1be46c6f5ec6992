/** Sets of key groups as sorted, disjoint, non-adjacent ranges (what a partial savepoint covers). */
import type { KeyGroupRange } from '@stateshift/core';

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
