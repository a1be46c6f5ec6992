/**
 * The write buffer: point writes land here synchronously and reach LevelDB as one batch at a
 * checkpoint (or earlier, when the buffer is full). Keys are the latin1 strings of the entry keys.
 *
 * A layer is the buffer of one interval: `current` takes writes; a full or checkpointed layer is
 * frozen (never changed again) until its batch is written. Reads look at the newest layer first.
 */

/** null: the key is deleted. */
export type Buffered = Uint8Array | null;

export class Layer {
  readonly pending = new Map<string, Buffered>();
  /** Key prefixes of maps cleared in this layer: entries under them that `pending` lacks are absent. */
  readonly tombstones = new Set<string>();
  /** Map key prefix → the buffered entry keys under it (so a clear is not O(buffer)). */
  private readonly mapKeys = new Map<string, Set<string>>();
  /** About how many bytes the layer holds. */
  bytes = 0;

  get empty(): boolean {
    return this.pending.size === 0 && this.tombstones.size === 0;
  }

  set(key: string, value: Buffered, mapPrefix?: string): void {
    const old = this.pending.get(key);
    if (old !== undefined) this.bytes -= key.length + (old?.length ?? 0);
    this.pending.set(key, value);
    this.bytes += key.length + (value?.length ?? 0);
    if (mapPrefix !== undefined) {
      let keys = this.mapKeys.get(mapPrefix);
      if (!keys) this.mapKeys.set(mapPrefix, (keys = new Set()));
      keys.add(key);
    }
  }

  /** The buffered entry keys of one map (by its key prefix). */
  mapKeysOf(prefix: string): ReadonlySet<string> | undefined {
    return this.mapKeys.get(prefix);
  }

  /** Removes every entry of a map (the key's prefix): buffered ones now, stored ones at the flush. */
  clearPrefix(prefix: string): void {
    const keys = this.mapKeys.get(prefix);
    if (keys) {
      for (const key of keys) {
        const old = this.pending.get(key);
        if (old !== undefined) this.bytes -= key.length + (old?.length ?? 0);
        this.pending.delete(key);
      }
      this.mapKeys.delete(prefix);
    }
    this.tombstones.add(prefix);
    this.bytes += prefix.length;
  }
}

/** What the layers say about a key: a value, deleted (null), or nothing (undefined: read the database). */
export function lookup(layers: readonly Layer[], key: string, mapPrefix: string | undefined): Buffered | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    const value = layer.pending.get(key);
    if (value !== undefined) return value;
    if (mapPrefix !== undefined && layer.tombstones.size && layer.tombstones.has(mapPrefix)) return null;
  }
  return undefined;
}

/**
 * What the layers hold for one map (by its key prefix), as of now: whether it was cleared (then the
 * database holds nothing of it that counts), and its buffered entries sorted by key (null: removed).
 */
export function mapOverlay(layers: readonly Layer[], prefix: string): { cleared: boolean; overlay: [string, Buffered][] } {
  let cleared = false;
  const entries = new Map<string, Buffered>();
  for (const layer of layers) {
    if (layer.tombstones.has(prefix)) {
      cleared = true;
      entries.clear();
    }
    for (const key of layer.mapKeysOf(prefix) ?? []) entries.set(key, layer.pending.get(key)!);
  }
  const overlay = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { cleared, overlay };
}
