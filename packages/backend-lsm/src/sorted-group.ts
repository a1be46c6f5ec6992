/**
 * One key group of one data file as the lower layer keeps it for reads in place: its entries keyed
 * as LevelDB keys them, sorted by key, packed into one buffer with their values. A point read is a
 * binary search. It costs the entries' own bytes and 8 more per entry; a map of string ids to
 * separate arrays took about a kilobyte per entry, which made a restore in place of a large
 * savepoint grow by that much per entry read.
 */
export class SortedGroup {
  private constructor(
    /** Keys and values, one after the other: key i, value i, key i + 1, ... */
    private readonly bytes: Uint8Array,
    /** Where each key and value starts in `bytes`; key i is [at[2i], at[2i + 1]), its value ends at at[2i + 2]. */
    private readonly at: Uint32Array,
  ) {}

  /**
   * The group of these entries (in any order). Of entries with equal keys the last is kept, as a
   * reader of the file keeps the last entry of a key.
   */
  static of(keys: Uint8Array[], values: Uint8Array[]): SortedGroup {
    let order = keys.map((_, i) => i);
    // Data files written from LevelDB are sorted already; Array.prototype.sort is stable, which
    // keeps the last of equal keys last.
    if (!isAscending(keys)) order = order.sort((a, b) => Buffer.compare(keys[a], keys[b]));
    const kept = order.filter((i, n) => n + 1 === order.length || Buffer.compare(keys[i], keys[order[n + 1]]) !== 0);
    let size = 0;
    for (const i of kept) size += keys[i].length + values[i].length;
    const bytes = new Uint8Array(size);
    const at = new Uint32Array(2 * kept.length + 1);
    let end = 0;
    for (const [n, i] of kept.entries()) {
      bytes.set(keys[i], end);
      at[2 * n + 1] = end += keys[i].length;
      bytes.set(values[i], end);
      at[2 * n + 2] = end += values[i].length;
    }
    return new SortedGroup(bytes, at);
  }

  /** The entries held. */
  get size(): number {
    return (this.at.length - 1) / 2;
  }

  /** Bytes held (keys, values and their offsets). */
  get byteLength(): number {
    return this.bytes.byteLength + this.at.byteLength;
  }

  /** The value stored under `key` (a copy: it outlives the group), or undefined. */
  get(key: Uint8Array): Uint8Array | undefined {
    const i = this.lowerBound(key);
    if (i === this.size || this.compare(i, key) !== 0) return undefined;
    return this.bytes.slice(this.at[2 * i + 1], this.at[2 * i + 2]);
  }

  /** The entries whose keys begin with `prefix`, in key order (views of the group's bytes). */
  under(prefix: Uint8Array): { keys: Uint8Array[]; values: Uint8Array[] } {
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    for (let i = this.lowerBound(prefix); i < this.size && this.startsWith(i, prefix); i++) {
      keys.push(this.bytes.subarray(this.at[2 * i], this.at[2 * i + 1]));
      values.push(this.bytes.subarray(this.at[2 * i + 1], this.at[2 * i + 2]));
    }
    return { keys, values };
  }

  /** The first entry whose key is not below `target`. */
  private lowerBound(target: Uint8Array): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(mid, target) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Entry i's key against `key`, bytewise (as Buffer.compare, without making a view). */
  private compare(i: number, key: Uint8Array): number {
    const start = this.at[2 * i];
    const length = this.at[2 * i + 1] - start;
    const n = Math.min(length, key.length);
    for (let j = 0; j < n; j++) {
      const d = this.bytes[start + j] - key[j];
      if (d !== 0) return d;
    }
    return length - key.length;
  }

  private startsWith(i: number, prefix: Uint8Array): boolean {
    const start = this.at[2 * i];
    if (this.at[2 * i + 1] - start < prefix.length) return false;
    for (let j = 0; j < prefix.length; j++) if (this.bytes[start + j] !== prefix[j]) return false;
    return true;
  }
}

function isAscending(keys: Uint8Array[]): boolean {
  for (let i = 1; i < keys.length; i++) if (Buffer.compare(keys[i - 1], keys[i]) > 0) return false;
  return true;
}
