/**
 * The write buffer between the synchronous state API and LevelDB.
 *
 * Writes go into an in-memory layer; reads look in it, then in layers being written, then
 * `getSync`. A checkpoint freezes the layer at the moment it is called and writes it as one
 * LevelDB batch together with the metadata (position, checkpoint counter): durable together, or not
 * at all.
 *
 * A full layer (or an iteration, or a savepoint, which read LevelDB) is written before a checkpoint:
 * an uncommitted flush. So that reopening still gives exactly the last checkpoint, such a flush
 * writes, in its own batch, an undo record per key it changes (the value the key had at the last
 * checkpoint, or none). A checkpoint removes them; an open applies those of an uncommitted interval
 * before anything else. Every LevelDB write of the backend goes through one chain, in order.
 *
 * Map state `clear` is a range tombstone: reads of map keys under the prefix that miss the layer
 * are absent; the flush deletes what LevelDB holds under it (before the layer's puts).
 */
import { DataInput } from '@stateshift/core';
import { latin1, prefixEnd, statePrefix, UNDO_STATE } from './layout.js';
import { writeBatch, type BatchOp, type Db } from './local-metadata.js';

class Layer {
  /** key (latin1) to [key bytes, value or null for a delete]. */
  readonly points = new Map<string, [Uint8Array, Uint8Array | null]>();
  /** Cleared map prefixes (latin1) to their bytes. */
  readonly cleared = new Map<string, Uint8Array>();
  /** Buffered map entries per map prefix, so a clear drops them without a scan of the layer. */
  readonly byPrefix = new Map<string, Set<string>>();

  get empty(): boolean {
    return this.points.size === 0 && this.cleared.size === 0;
  }
}

const UNDO_PREFIX = statePrefix(UNDO_STATE);
const UNDO_END = prefixEnd(UNDO_PREFIX);

function undoKey(interval: number, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 + key.length);
  out.set(UNDO_PREFIX);
  new DataView(out.buffer).setUint32(2, interval);
  out.set(key, 6);
  return out;
}

function undoValue(previous: Uint8Array | undefined): Uint8Array {
  if (!previous) return new Uint8Array([0]);
  const out = new Uint8Array(previous.length + 1);
  out[0] = 1;
  out.set(previous, 1);
  return out;
}

/**
 * Puts back what uncommitted flushes changed after checkpoint `committed`, and removes every undo
 * record, in one synced batch. Runs when a database opens, before anything reads it.
 */
export async function recoverUndoLog(db: Db, committed: number): Promise<number> {
  const ops: BatchOp[] = [];
  let undone = 0;
  for await (const [key, value] of db.iterator({ gte: UNDO_PREFIX, lt: UNDO_END })) {
    const interval = new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(2);
    if (interval > committed) {
      const original = key.slice(6);
      ops.push(value[0] === 1 ? { type: 'put', key: original, value: value.slice(1) } : { type: 'del', key: original });
      undone++;
    }
    ops.push({ type: 'del', key });
  }
  if (ops.length) await writeBatch(db, ops, { sync: true });
  return undone;
}

/** A read-only layer under LevelDB (a savepoint read in place). */
export interface Underlay {
  get(key: Uint8Array, id: string): Uint8Array | undefined;
  /** Keys it holds under a map prefix, for a clear to shadow them. */
  keysUnder(prefix: Uint8Array): Uint8Array[];
}

export class WriteBuffer {
  /**
   * With an underlay, a deletion is written as an empty value (a tombstone that hides the underlay's
   * entry), and reads that miss LevelDB look there.
   */
  underlay: Underlay | undefined;
  private current = new Layer();
  /** Frozen layers being written, oldest first. */
  private readonly frozen: Layer[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  /** Keys with an undo record in the current checkpoint interval. */
  private readonly undone = new Set<string>();
  private failure: unknown;
  /** LevelDB writes of buffered data so far: a reader that noted LevelDB's keys knows whether they changed. */
  writes = 0;
  /** Writes waiting for their turn: a long run of the backend's own (the copy pass) gives way to them. */
  queued = 0;

  constructor(
    readonly db: Db,
    /** Buffered entries before an uncommitted flush. */
    private readonly limit: number,
    /** The checkpoint interval undo records belong to: committed checkpoints + 1. */
    private readonly interval: () => number,
  ) {}

  /** The value of a key: buffered, being written, or in LevelDB. `prefix` names the map a map entry belongs to. */
  get(key: Uint8Array, id: string, prefix?: string): Uint8Array | undefined {
    let found = lookup(this.current, id, prefix);
    for (let i = this.frozen.length - 1; found === undefined && i >= 0; i--) found = lookup(this.frozen[i], id, prefix);
    if (found !== undefined) return found ?? undefined;
    const stored = this.db.getSync(key);
    if (stored !== undefined) return stored.length ? stored : undefined;
    return this.underlay?.get(key, id);
  }

  /** Whether a key has a write that LevelDB does not have yet (the migration passes leave it alone). */
  pending(id: string, prefix?: string): boolean {
    if (lookup(this.current, id, prefix) !== undefined) return true;
    return this.frozen.some((layer) => lookup(layer, id, prefix) !== undefined);
  }

  put(key: Uint8Array, id: string, value: Uint8Array | null, prefix?: string): void {
    this.throwFailure();
    const layer = this.current;
    layer.points.set(id, [key, value]);
    if (prefix !== undefined) {
      let set = layer.byPrefix.get(prefix);
      if (!set) layer.byPrefix.set(prefix, (set = new Set()));
      set.add(id);
    }
    // A full layer is written now; a failure is kept and thrown by the next write or checkpoint.
    if (layer.points.size >= this.limit) void this.flush().catch(() => undefined);
  }

  clearPrefix(prefixBytes: Uint8Array, prefix: string): void {
    this.throwFailure();
    const layer = this.current;
    const buffered = layer.byPrefix.get(prefix);
    if (buffered) {
      for (const id of buffered) layer.points.delete(id);
      layer.byPrefix.delete(prefix);
    }
    layer.cleared.set(prefix, prefixBytes);
  }

  /** Writes what is buffered now, uncommitted (with undo records); then runs `after` before any other write. */
  flush<T>(after?: () => T | Promise<T>): Promise<T | undefined> {
    return this.schedule(this.freeze(), this.interval(), undefined, after);
  }

  /** Writes what is buffered now with `commit` (the checkpoint's metadata) in one batch. */
  commit(ops: BatchOp[], sync: boolean): Promise<void> {
    const layer = this.freeze();
    return this.schedule(layer, this.interval(), { ops, sync }).then(() => undefined);
  }

  /** Runs a write of the backend's own (a migration batch) in order with the flushes. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.queued++;
    const run = this.chain.then(() => {
      this.queued--;
      return fn();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Waits for every write scheduled so far. */
  async settle(): Promise<void> {
    await this.chain;
    this.throwFailure();
  }

  private freeze(): Layer | undefined {
    if (this.current.empty) return undefined;
    const layer = this.current;
    this.current = new Layer();
    this.frozen.push(layer);
    return layer;
  }

  /** `interval` is taken when the layer is frozen: a checkpoint called later must not change it. */
  private schedule<T>(
    layer: Layer | undefined,
    interval: number,
    commit: { ops: BatchOp[]; sync: boolean } | undefined,
    after?: () => T | Promise<T>,
  ): Promise<T | undefined> {
    this.queued++;
    const run = this.chain.then(async () => {
      this.queued--;
      this.throwFailure();
      try {
        if (layer || commit) await this.write(layer, interval, commit);
      } catch (error) {
        this.failure ??= error;
        throw error;
      } finally {
        if (layer) this.frozen.splice(this.frozen.indexOf(layer), 1);
      }
      return after ? await after() : undefined;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(layer: Layer | undefined, interval: number, commit: { ops: BatchOp[]; sync: boolean } | undefined): Promise<void> {
    const undo: BatchOp[] = [];
    const ops: BatchOp[] = [];
    const record = (key: Uint8Array, id: string, previous: Uint8Array | undefined) => {
      if (commit || this.undone.has(id)) return;
      this.undone.add(id);
      undo.push({ type: 'put', key: undoKey(interval, key), value: undoValue(previous) });
    };
    const underlay = this.underlay;
    const tombstone = new Uint8Array(0);
    if (layer) {
      for (const prefix of layer.cleared.values()) {
        for await (const [key, value] of this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
          record(key, latin1(key), value);
          ops.push({ type: 'del', key });
        }
        for (const key of underlay?.keysUnder(prefix) ?? []) {
          record(key, latin1(key), this.db.getSync(key));
          ops.push({ type: 'put', key, value: tombstone });
        }
      }
      for (const [id, [key, value]] of layer.points) {
        if (!commit && !this.undone.has(id)) record(key, id, this.db.getSync(key));
        ops.push(value ? { type: 'put', key, value } : underlay ? { type: 'put', key, value: tombstone } : { type: 'del', key });
      }
    }
    if (commit) ops.push(...commit.ops);
    if (!ops.length) return;
    this.writes++;
    await writeBatch(this.db, [...undo, ...ops], { sync: commit ? commit.sync : false });
    if (commit && this.undone.size) {
      // The checkpoint is committed: this interval's undo records are obsolete.
      await this.db.clear({ gte: UNDO_PREFIX, lt: UNDO_END });
      this.undone.clear();
    }
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure;
  }
}

/** A layer's answer: the value, null for deleted (or under a cleared map), undefined for no answer. */
function lookup(layer: Layer, id: string, prefix: string | undefined): Uint8Array | null | undefined {
  const hit = layer.points.get(id);
  if (hit) return hit[1];
  if (prefix !== undefined && layer.cleared.has(prefix)) return null;
  return undefined;
}
