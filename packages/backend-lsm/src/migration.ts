/**
 * The state migration pass: rewrites every entry of a state that is not at the newest schema
 * version, in batches, through the reader of its own version and the current writer.
 *
 * Crash safety: the version table (old versions and the new one) is saved before the pass starts,
 * and each batch is written atomically with the new version id, so reopening after a crash runs the
 * pass again and skips what is done; no entry is converted twice, none half-converted. The pass
 * changes only how entries are stored, never what they hold, so it needs no checkpoint.
 */
import { keyGroupInRange } from '@stateshift/core';
import type { StateSlot } from '@stateshift/backend';
import type { LsmBackend } from './backend.js';
import { keyGroupOfKey, prefixEnd, statePrefix, versionOf } from './layout.js';
import { layoutOp, writeBatch } from './local-metadata.js';

export interface MigrationProgress {
  /** 'restore': entries copied from a savepoint (operator and state are "*"); 'migration': a migration pass. */
  phase: 'restore' | 'migration';
  operator: string;
  state: string;
  done: number;
  total: number;
  /** Entries per second so far. */
  rate: number;
}

const BATCH = 1000;

export interface PassOptions {
  onProgress?(p: MigrationProgress): void;
  /** Entries per second at most (0: no limit). */
  rate?: number;
  /** Set for the background pass (the job writes meanwhile). */
  control?: BackgroundMigration;
  /** Entries left, when known (after a restore); else counted. */
  total?: number;
}

export async function migrateState(backend: LsmBackend, slot: StateSlot, options: PassOptions): Promise<void> {
  const runtime = backend.runtimes[slot.index];
  const prefix = statePrefix(runtime.id);
  const end = prefixEnd(prefix);
  const db = backend.db;
  const stale = (key: Uint8Array, value: Uint8Array) => versionOf(value).version !== runtime.newest && keyGroupInRange(keyGroupOfKey(key), backend.keyGroupRange);
  let total = options.total ?? 0;
  if (options.total === undefined) for await (const [key, value] of db.iterator({ gte: prefix, lt: end })) if (stale(key, value)) total++;
  const started = Date.now();
  let done = 0;
  const report = () => {
    const seconds = (Date.now() - started) / 1000;
    options.onProgress?.({ phase: 'migration', operator: slot.uid, state: slot.name, done, total, rate: seconds > 0 ? done / seconds : done });
  };

  if (!options.control) {
    // While opening, nothing else writes: one pass over one iterator, a batch at a time.
    const iterator = db.iterator({ gte: prefix, lt: end });
    try {
      for (;;) {
        const read = await iterator.nextv(BATCH);
        if (!read.length) break;
        const batch = read.filter(([key, value]) => stale(key, value));
        if (!batch.length) continue;
        await writeBatch(db, batch.map(([key, value]) => ({ type: 'put' as const, key, value: backend.convert(slot, value) })));
        done += batch.length;
        report();
      }
    } finally {
      await iterator.close();
    }
    backend.retireOldVersions(slot);
    await writeBatch(db, [layoutOp(backend.meta)], { sync: true });
    return;
  }

  let after: Uint8Array | undefined;
  for (;;) {
    if (!(await options.control.proceed())) return;
    const read = await db.iterator(after ? { gt: after, lt: end, limit: BATCH } : { gte: prefix, lt: end, limit: BATCH }).all();
    if (!read.length) break;
    after = read[read.length - 1][0];
    const todo = read.filter(([key, value]) => stale(key, value));
    if (!todo.length) continue;
    await backend.enqueue(async () => {
      // In the write chain, checked right before the batch is queued: an entry the job wrote since
      // (buffered, or written by a flush) is newer than what was read and is left alone.
      const current = await db.getMany(todo.map(([key]) => key));
      const ops = [];
      for (let i = 0; i < todo.length; i++) {
        const [key, value] = todo[i];
        if (!current[i] || Buffer.compare(current[i]!, value) !== 0 || backend.isBuffered(key, slot)) continue;
        ops.push({ type: 'put' as const, key, value: backend.convert(slot, value) });
      }
      if (ops.length) await writeBatch(db, ops);
    });
    done += todo.length;
    report();
    if (options.rate) {
      const due = (done / options.rate) * 1000 - (Date.now() - started);
      if (due > 0) await new Promise((r) => setTimeout(r, due));
    }
  }
  backend.retireAtCheckpoint(slot);
}

/** The lazy mode's background pass: rate-limited, pausable; old versions are retired at the next checkpoint. */
export class BackgroundMigration {
  private paused = false;
  private stopped = false;
  private wake?: () => void;
  readonly done: Promise<void>;

  constructor(run: (control: BackgroundMigration) => Promise<void>) {
    this.done = run(this);
    // A failure is seen through `done`; stop() waits for it without throwing.
    this.done.catch(() => undefined);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.resume();
    await this.done.catch(() => undefined);
  }

  /** Called by the pass between batches: false when it must stop. */
  async proceed(): Promise<boolean> {
    while (this.paused && !this.stopped) await new Promise<void>((r) => (this.wake = r));
    return !this.stopped;
  }
}
