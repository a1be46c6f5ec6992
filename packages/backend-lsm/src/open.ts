/**
 * Opening the LSM backend: a new database, a reopened one (the last checkpoint, after undoing any
 * uncommitted flush), or a restore from a savepoint (marked while it runs, so an interrupted
 * restore is never taken for a complete database).
 */
import { checkOpenOptions, type StateSlot } from '@stateshift/backend';
import { BackendLockedError, RestoreError, snapshotToBytes, type JobDeclaration } from '@stateshift/core';
import { layoutOfJob, planRestore, assertRestorable, stateMetadataOf, type RestorePlan, type SavepointMetadata } from '@stateshift/savepoint';
import { ClassicLevel } from 'classic-level';
import { LsmBackend } from './backend.js';
import { MAX_STATE_ID, prefixEnd, statePrefix, UNDO_STATE } from './layout.js';
import { loadMetadata, metadataOps, restoringFrom, restoringMarker, writeBatch, type BatchOp, type Db, type LocalMetadata } from './local-metadata.js';
import { BackgroundMigration, migrateState } from './migration.js';
import { modeOf, type LsmOpenOptions } from './options.js';
import { ingest } from './restore.js';

/** Opens (or creates) the database in `options.dir`, restoring from a savepoint or from what it holds. */
export async function openLsmBackend<J extends JobDeclaration>(options: LsmOpenOptions<J>): Promise<LsmBackend<J>> {
  checkOpenOptions(options, 'openLsmBackend');
  if (typeof options.dir !== 'string' || !options.dir) throw new TypeError('openLsmBackend() needs { dir }, the database directory');
  const size = options.writeBufferSize;
  if (size !== undefined && (typeof size !== 'object' || [size.bytes, size.entries].some((n) => n !== undefined && !(typeof n === 'number' && n > 0)))) {
    throw new TypeError('openLsmBackend(): writeBufferSize must be { bytes?, entries? } with positive numbers');
  }
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(options.dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new BackendLockedError(
        `${options.dir} is already open in another LSM backend (in this process or another one); close that backend first, or open another directory`,
        { cause: error },
      );
    }
    throw error;
  }
  try {
    return await open(db, options);
  } catch (error) {
    await db.close();
    throw error;
  }
}

async function open<J extends JobDeclaration>(db: Db, options: LsmOpenOptions<J>): Promise<LsmBackend<J>> {
  const interrupted = await restoringFrom(db);
  if (interrupted !== undefined) {
    if (!options.restoreFrom) {
      throw new RestoreError(
        `${options.dir} holds an interrupted restore from the savepoint ${interrupted}: restore it again (openLsmBackend({ dir, restoreFrom: ${JSON.stringify(interrupted)} })), which starts over cleanly`,
      );
    }
    // Start over: nothing copied so far counts.
    await db.clear();
  }
  await undoUncommitted(db);
  const stored = interrupted === undefined ? await loadMetadata(db, options.dir) : undefined;
  if (stored && options.restoreFrom) {
    throw new RestoreError(`${options.dir} already holds state; restore a savepoint into an empty directory (or reopen without restoreFrom)`);
  }
  if (options.restoreFrom) await writeBatch(db, [restoringMarker(options.restoreFrom)], { sync: true });

  const meta: LocalMetadata = {
    layout: { ...layoutOfJob(options.job), createdAt: Date.now(), files: [] },
    stateIds: stored?.stateIds.slice() ?? [],
    counter: stored?.counter ?? 0,
    position: stored?.position,
  };
  const backend = new LsmBackend<J>(db, meta, options);
  let plan: RestorePlan | undefined;
  let savepoint: Awaited<ReturnType<LsmBackend['openSavepoint']>>['savepoint'] | undefined;
  if (options.restoreFrom) {
    ({ savepoint, plan } = await backend.openSavepoint(options.restoreFrom));
    meta.position = backend.position;
  } else if (stored) {
    plan = planRestore(stored.layout, options.job, { allowNonRestoredState: options.allowNonRestoredState });
    assertRestorable(plan);
    const rekeyed = plan.operators.filter((op) => op.rekey || op.states.some((s) => s.rekeyMapKeys)).map((op) => `"${op.uid}"`);
    if (rekeyed.length) {
      throw new RestoreError(
        `the key, namespace or map-key serializer of operator${rekeyed.length > 1 ? 's' : ''} ${rekeyed.join(', ')} changed, so entries must be re-keyed: ` +
          'take a savepoint (backend.savepoint()) with the previous version and restore it into a new directory (re-keying happens while restoring)',
      );
    }
    backend.usePlan(plan, stored.position);
  }

  const migrations = assignStates(backend, plan);
  meta.stateIds.forEach((pair, id) => {
    if (pair !== null && !backend.byId.has(id)) meta.stateIds[id] = null;
  });
  const copied = savepoint ? await ingest(backend, savepoint, plan!, options.onProgress) : undefined;
  for (let id = 0; id < meta.stateIds.length; id++) {
    if (meta.stateIds[id] === null) await db.clear({ gte: statePrefix(id), lt: prefixEnd(statePrefix(id)) });
  }
  await writeBatch(db, metadataOps(meta), { sync: true });

  // States whose entries must change: eager now, or lazy (reads decode per version).
  const lazy: StateSlot[] = [];
  for (const slot of migrations) {
    if (modeOf(options, slot.uid, slot.name) === 'eager') await migrateState(backend, slot, { onProgress: options.onProgress, total: copied?.get(slot.index) ?? (copied ? 0 : undefined) });
    else lazy.push(slot);
  }
  if (lazy.length && options.backgroundMigration) {
    const rate = options.backgroundMigration.rate ?? 0;
    backend.background = new BackgroundMigration(async (control) => {
      for (const slot of lazy) await migrateState(backend, slot, { onProgress: options.onProgress, rate, control });
    });
  }
  return backend;
}

/**
 * Gives every state its id and its schema version table: restored states keep their stored
 * versions (readable through the plan's readers); a writer whose snapshot differs from the newest
 * stored one gets a new version id. Returns the states with entries at older versions.
 */
function assignStates(backend: LsmBackend, plan: RestorePlan | undefined): StateSlot[] {
  const { meta } = backend;
  const migrations: StateSlot[] = [];
  for (const slot of backend.stateSlots) {
    let id = meta.stateIds.findIndex((pair) => pair !== null && pair[0] === slot.uid && pair[1] === slot.name);
    if (id < 0) id = meta.stateIds.push([slot.uid, slot.name]) - 1;
    if (id > MAX_STATE_ID) throw new RestoreError(`the database in ${backend.options.dir} has used all ${MAX_STATE_ID + 1} state ids; take a savepoint and restore it into a new directory`);
    const statePlan = plan?.operators.find((o) => o.uid === slot.uid)?.states.find((s) => s.state === slot.name);
    const readers = new Map();
    let versions = stateMetadataOf(slot.descriptor).versions;
    if (statePlan?.status === 'restored') {
      const storedVersions = statePlan.metadata!.versions;
      for (const v of statePlan.values) if (v.reader) readers.set(v.version!, v.reader);
      const newest = storedVersions[storedVersions.length - 1];
      const same = Buffer.compare(snapshotToBytes(newest.snapshot), snapshotToBytes(slot.writer.snapshot())) === 0;
      versions = same ? storedVersions : [...storedVersions, { id: Math.max(...storedVersions.map((v) => v.id)) + 1, snapshot: slot.writer.snapshot() }];
      if (versions.length > 1) migrations.push(slot);
    }
    const state = meta.layout.operators[slot.operator.index].states[slot.stateIndex];
    meta.layout.operators[slot.operator.index].states[slot.stateIndex] = { ...state, versions };
    backend.runtimes[slot.index] = { id, newest: versions[versions.length - 1].id, readers };
    backend.byId.set(id, slot);
  }
  return migrations;
}

/**
 * Puts back what flushes since the last checkpoint changed (undo records of the interval after
 * the committed counter) and removes every undo record, in one batch, before anything else.
 */
async function undoUncommitted(db: Db): Promise<void> {
  const prefix = statePrefix(UNDO_STATE);
  const ops: BatchOp[] = [];
  const counterOf = (key: Uint8Array) => Buffer.from(key.buffer, key.byteOffset, key.byteLength).readUInt32BE(2);
  const records = await db.iterator({ gte: prefix, lt: prefixEnd(prefix) }).all();
  if (!records.length) return;
  const stored = await loadCounter(db);
  for (const [key, value] of records) {
    if (counterOf(key) > stored) {
      const entry = key.subarray(6);
      ops.push(value[0] === 1 ? { type: 'put', key: entry, value: value.subarray(1) } : { type: 'del', key: entry });
    }
    ops.push({ type: 'del', key });
  }
  await writeBatch(db, ops, { sync: true });
}

async function loadCounter(db: Db): Promise<number> {
  const meta = await loadMetadata(db, '').catch(() => undefined);
  return meta?.counter ?? 0;
}

export type { SavepointMetadata };
