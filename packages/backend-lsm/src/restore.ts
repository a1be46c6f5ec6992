/**
 * Copying a savepoint's entries in, as bytes: each key built in one allocation, batches of about
 * 5000. The elements of one list (one savepoint entry each) become one value. Only operators whose
 * keys, namespaces or map keys migrate are decoded and re-encoded (re-keyed).
 */
import type { StateSlot } from '@stateshift/backend';
import { KeyGroupError, keyGroupInRange, RestoreError } from '@stateshift/core';
import { entryDecoder, type RawEntry, type RestorePlan, type Savepoint } from '@stateshift/savepoint';
import type { LsmBackend } from './backend.js';
import { entryKey, entryKeyOf, entryValue, latin1, putVarUint, varUintLength, versionOf } from './layout.js';
import { writeBatch, type BatchOp } from './local-metadata.js';
import type { MigrationProgress } from './migration.js';

const INGEST_BATCH = 5000;

interface ListRun {
  slot: StateSlot;
  key: Uint8Array;
  str: string;
  /** Element bytes, each part at its version (a part may hold several elements). */
  parts: { version: number; bytes: Uint8Array }[];
}

/** Returns, per slot index, how many values were copied at an older version (left for a migration). */
export async function ingest(backend: LsmBackend, savepoint: Savepoint, plan: RestorePlan, onProgress?: (p: MigrationProgress) => void): Promise<Map<number, number>> {
  const started = Date.now();
  const total = savepoint.metadata.files.reduce((n, f) => n + f.entries, 0);
  let done = 0;
  const copied = new Map<number, number>();
  const range = backend.keyGroupRange;
  const db = backend.db;
  let batch: BatchOp[] = [];
  /** List keys in `batch`, by their latin1 string. */
  const inBatch = new Map<string, number>();
  const flush = async () => {
    if (batch.length) await writeBatch(db, batch);
    batch = [];
    inBatch.clear();
    const seconds = (Date.now() - started) / 1000;
    onProgress?.({ phase: 'restore', operator: '*', state: '*', done, total, rate: seconds > 0 ? done / seconds : done });
  };
  const put = (slot: StateSlot, key: Uint8Array, value: Uint8Array, str?: string) => {
    if (str !== undefined) inBatch.set(str, batch.length);
    batch.push({ type: 'put', key, value });
    if (versionOf(value).version !== backend.runtimes[slot.index].newest) copied.set(slot.index, (copied.get(slot.index) ?? 0) + 1);
  };

  let run: ListRun | undefined;
  const endRun = () => {
    if (!run) return;
    put(run.slot, run.key, listValue(backend, run), run.str);
    run = undefined;
  };
  /** Adds list elements; `written` says whether the key may already hold elements copied earlier. */
  const addElements = (slot: StateSlot, key: Uint8Array, version: number, bytes: Uint8Array, written: (str: string) => boolean) => {
    const str = latin1(key);
    if (run?.str === str) {
      run.parts.push({ version, bytes });
      return;
    }
    endRun();
    run = { slot, key, str, parts: [] };
    // The key's elements were not all consecutive: continue from what was copied.
    if (written(str)) {
      const at = inBatch.get(str);
      const previous = at !== undefined ? (batch[at] as { value: Uint8Array }).value : db.getSync(key);
      if (previous) {
        const { version: v, start } = versionOf(previous);
        run.parts.push({ version: v, bytes: previous.subarray(start) });
      }
    }
    run.parts.push({ version, bytes });
  };

  for (const opPlan of plan.operators) {
    if (opPlan.status !== 'matched') continue;
    const op = backend.operatorSlotOf(opPlan.uid);
    const bySavepointIndex = new Map<number, StateSlot>();
    for (const s of opPlan.states) if (s.status === 'restored') bySavepointIndex.set(s.savepointIndex!, op.states.get(s.state)!);
    const rekey = opPlan.rekey || opPlan.states.some((s) => s.rekeyMapKeys);
    const decode = rekey ? entryDecoder(opPlan) : undefined;
    // Re-keying: the old key of every new key, so two old keys that become one fail loudly.
    const origin = new Map<string, string>();
    let group = -1;
    const emitted = new Set<string>();
    for await (const block of savepoint.blocks(opPlan.uid, rekey ? {} : { range })) {
      for (const raw of block) {
        done++;
        const slot = bySavepointIndex.get(raw.state);
        if (!slot) continue;
        const { id, newest } = backend.runtimes[slot.index];
        const type = slot.descriptor.type;
        if (decode) {
          const entry = decode(raw)!;
          let at;
          try {
            at = op.locate(entry.key, entry.namespace);
          } catch (error) {
            if (error instanceof KeyGroupError) continue;
            throw error;
          }
          const mapKey = type === 'map' ? slot.encodeMapKey(entry.mapKey) : undefined;
          const key = entryKey(id, at.keyGroup, at.keyNs, mapKey);
          const str = latin1(key);
          const old = oldIdentity(raw, type);
          const before = origin.get(str);
          if (before !== undefined && before !== old) {
            throw new RestoreError(
              `operator "${slot.uid}" state "${slot.name}": two stored keys become one key after the key migration (key group ${at.keyGroup}); ` +
                'make the key migration (migrateKey) keep keys distinct',
            );
          }
          origin.set(str, old);
          const encoded = slot.encodeInto([entry.value]);
          if (type === 'list') addElements(slot, key, newest, encoded.slice(), (s) => before !== undefined && s === str);
          else {
            endRun();
            put(slot, key, entryValue(newest, encoded));
          }
        } else {
          if (!keyGroupInRange(raw.keyGroup, range)) continue;
          if (raw.keyGroup !== group) {
            group = raw.keyGroup;
            emitted.clear();
          }
          const key = entryKeyOf(id, raw.keyGroup, raw.key, raw.namespace, type === 'map' ? raw.mapKey : undefined);
          if (type === 'list') {
            addElements(slot, key, raw.version, raw.value, (s) => emitted.has(s));
            emitted.add(run!.str);
          } else {
            endRun();
            put(slot, key, entryValue(raw.version, raw.value));
          }
        }
        if (batch.length >= INGEST_BATCH) {
          // The open run is finished by the next entry; what is in the batch is complete.
          await flush();
        }
      }
    }
    endRun();
  }
  await flush();
  return copied;
}

/** The key, namespace (and map key) bytes an entry had in the savepoint. */
function oldIdentity(raw: RawEntry, type: string): string {
  return `${latin1(raw.key)}\u0000${latin1(raw.namespace)}\u0000${type === 'map' ? latin1(raw.mapKey) : ''}`;
}

/** One list value from a run: the elements as they are when they share a version, else all at the newest. */
function listValue(backend: LsmBackend, run: ListRun): Uint8Array {
  const newest = backend.runtimes[run.slot.index].newest;
  const version = run.parts[0].version;
  const same = run.parts.every((p) => p.version === version);
  const head = same ? version : newest;
  const parts = same
    ? run.parts.map((p) => p.bytes)
    : run.parts.map((p) => {
        if (p.version === newest) return p.bytes;
        const converted = backend.convert(run.slot, entryValue(p.version, p.bytes));
        return converted.subarray(versionOf(converted).start);
      });
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = Buffer.allocUnsafe(varUintLength(head) + length);
  let at = putVarUint(out, 0, head);
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
