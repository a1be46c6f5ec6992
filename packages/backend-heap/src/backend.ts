/**
 * The heap backend: state as objects in memory. Everything the backends share (handles, TTL,
 * validation, the restore driver) is `AbstractStateBackend`'s; this file keeps rows in maps.
 *
 * - Copy semantics: rows hold copies (`StateSlot.copy`), and reads return copies, so a value
 *   mutated after `set` or `get` does not change state.
 * - A restore decodes every entry through its version's reader (migration happens during the
 *   restore); a savepoint encodes every value with the current serializer.
 * - A savepoint's cut is taken synchronously (row and data references); while a savepoint is being
 *   written, list and map writes replace their arrays and maps instead of changing them in place.
 * - With `dir`, a checkpoint writes the state as a savepoint under `dir` and switches `dir/CURRENT`
 *   to it atomically; reopening `dir` restores the last one.
 */
import {
  copierOf,
  DataOutput,
  type Copier,
  keyGroupInRange,
  supports,
  type BackendOpenOptions,
  type BackendSupports,
  type JobDeclaration,
  type TtlValue,
} from '@stateshift/core';
import {
  AbstractStateBackend,
  checkOpenOptions,
  checkpointInDir,
  type ExportCut,
  restoreRekeyed,
  type MapEntryWrite,
  type StateSlot,
} from '@stateshift/backend';
import { entryDecoder, FIRST_VERSION, type SavepointWriter } from '@stateshift/savepoint';
import { writeRowsByKeyGroup, type FrameRow } from './export.js';
import { bytesToId, keysByValue, type MapData, type Row } from './table.js';

interface HeapCut extends ExportCut {
  /** Per state slot: the rows and their data at the time of the cut. */
  rows: Row[][];
  data: unknown[][];
  now: number;
}

export class HeapBackend<J extends JobDeclaration = JobDeclaration> extends AbstractStateBackend<J> {
  readonly supports: BackendSupports = supports({ persistence: true });
  private readonly tables: Map<unknown, Row>[];
  private readonly byValue: boolean[];
  private readonly keyCopiers: Copier[];
  private readonly namespaceCopiers: (Copier | undefined)[];
  /** Savepoints being written: while any is, list and map data are replaced, not changed in place. */
  private exporting = 0;
  private readonly dir: string | undefined;

  constructor(options: BackendOpenOptions<J>) {
    super(options);
    this.dir = options.dir;
    this.tables = this.slots.map(() => new Map());
    this.byValue = this.operatorSlots.map((op) => keysByValue(op.declaration));
    this.keyCopiers = this.operatorSlots.map((op) => copierOf(op.declaration.keySerializer));
    this.namespaceCopiers = this.operatorSlots.map((op) => (op.declaration.namespaceSerializer ? copierOf(op.declaration.namespaceSerializer) : undefined));
  }

  private find(slot: StateSlot, key: unknown, namespace: unknown): Row | undefined {
    const table = this.tables[slot.index];
    const op = slot.operator;
    if (this.byValue[op.index]) {
      const row = table.get(key);
      if (row) return row;
      op.locate(key, namespace); // a key that is not there must still be valid and served here
      return undefined;
    }
    return table.get(bytesToId(op.locate(key, namespace).keyNs));
  }

  private findOrCreate(slot: StateSlot, key: unknown, namespace: unknown): Row {
    const table = this.tables[slot.index];
    const op = slot.operator;
    const byValue = this.byValue[op.index];
    if (byValue) {
      const row = table.get(key);
      if (row) return row;
    }
    const at = op.locate(key, namespace);
    const id = byValue ? key : bytesToId(at.keyNs);
    let row = byValue ? undefined : table.get(id);
    if (!row) {
      const ns = this.namespaceCopiers[op.index];
      row = { keyGroup: at.keyGroup, key: this.keyCopiers[op.index](key), namespace: ns ? ns(namespace) : undefined, data: undefined };
      table.set(id, row);
    }
    return row;
  }

  private remove(slot: StateSlot, row: Row): void {
    const op = slot.operator;
    const table = this.tables[slot.index];
    if (this.byValue[op.index]) table.delete(row.key);
    else table.delete(bytesToId(op.locate(row.key, row.namespace).keyNs));
  }

  /** Copies of stored values, from the values or from their bytes, whichever is cheaper. */
  private copies(slot: StateSlot, stored: unknown[], encoded: Uint8Array): unknown[] {
    return slot.copyIsCheap ? stored.map(slot.copy) : slot.decodeAll(encoded);
  }

  _get(slot: StateSlot, key: unknown, namespace: unknown): unknown {
    const row = this.find(slot, key, namespace);
    return row ? slot.copy(row.data) : undefined;
  }

  _put(slot: StateSlot, key: unknown, namespace: unknown, stored: unknown, encoded: Uint8Array): void {
    this.findOrCreate(slot, key, namespace).data = slot.copyIsCheap ? slot.copy(stored) : slot.decodeAll(encoded)[0];
  }

  _delete(slot: StateSlot, key: unknown, namespace: unknown): void {
    const row = this.find(slot, key, namespace);
    if (row) this.remove(slot, row);
  }

  _getList(slot: StateSlot, key: unknown, namespace: unknown): unknown[] {
    const row = this.find(slot, key, namespace);
    return row ? (row.data as unknown[]).map(slot.copy) : [];
  }

  _putList(slot: StateSlot, key: unknown, namespace: unknown, stored: unknown[], encoded: Uint8Array): void {
    this.findOrCreate(slot, key, namespace).data = this.copies(slot, stored, encoded);
  }

  _appendList(slot: StateSlot, key: unknown, namespace: unknown, stored: unknown[], encoded: Uint8Array): void {
    const row = this.findOrCreate(slot, key, namespace);
    const copies = this.copies(slot, stored, encoded);
    const list = row.data as unknown[] | undefined;
    if (!list) row.data = copies;
    else if (this.exporting) row.data = list.concat(copies);
    else for (const c of copies) list.push(c);
  }

  _getMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): unknown {
    const pair = (this.find(slot, key, namespace)?.data as MapData | undefined)?.get(bytesToId(mapKeyBytes));
    return pair ? slot.copy(pair[1]) : undefined;
  }

  _putMapValues(slot: StateSlot, key: unknown, namespace: unknown, entries: MapEntryWrite[]): void {
    const row = this.findOrCreate(slot, key, namespace);
    let data = row.data as MapData | undefined;
    if (!data) row.data = data = new Map();
    else if (this.exporting) row.data = data = new Map(data);
    for (const e of entries) data.set(bytesToId(e.mapKeyBytes), [e.mapKey, slot.copyIsCheap ? slot.copy(e.stored) : slot.decodeAll(e.encoded)[0]]);
  }

  _deleteMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): void {
    const row = this.find(slot, key, namespace);
    if (!row) return;
    const id = bytesToId(mapKeyBytes);
    let data = row.data as MapData;
    if (!data.has(id)) return;
    if (data.size === 1) return this.remove(slot, row);
    if (this.exporting) row.data = data = new Map(data);
    data.delete(id);
  }

  _mapEntries(slot: StateSlot, key: unknown, namespace: unknown): AsyncIterable<[unknown, unknown]> {
    const data = this.find(slot, key, namespace)?.data as MapData | undefined;
    const pairs = data ? [...data.values()] : [];
    return (async function* () {
      for (const [mapKey, stored] of pairs) yield [slot.copyMapKey(mapKey), slot.copy(stored)] as [unknown, unknown];
    })();
  }

  _keys(slot: StateSlot): AsyncIterable<{ key: unknown; namespace: unknown }> {
    const rows = [...this.tables[slot.index].values()];
    const copyKey = this.keyCopiers[slot.operator.index];
    const copyNs = this.namespaceCopiers[slot.operator.index];
    return (async function* () {
      for (const row of rows) yield { key: copyKey(row.key), namespace: copyNs ? copyNs(row.namespace) : undefined };
    })();
  }

  protected _beginExport(): HeapCut {
    this.exporting++;
    const rows = this.tables.map((t) => [...t.values()]);
    const data = rows.map((rs) => rs.map((r) => r.data));
    let released = false;
    return {
      rows,
      data,
      now: this.now(),
      release: () => {
        if (!released) this.exporting--;
        released = true;
      },
    };
  }

  /** One data file per state, entries in key-group order (the table keeps rows in insertion order). */
  protected async _exportState(writer: SavepointWriter, cut: ExportCut): Promise<void> {
    const { rows, data, now } = cut as HeapCut;
    for (const slot of this.slots) {
      const stateRows = rows[slot.index];
      if (!stateRows.length) continue;
      const file = await writer.openDataFile(slot.uid, this.keyGroupRange, `s${slot.stateIndex}`);
      await writeRowsByKeyGroup(file, stateRows, data[slot.index], this.job.maxParallelism, entryFramer(slot, now));
      await writer.closeDataFile(file);
    }
  }

  protected async _checkpoint(position: Uint8Array | undefined): Promise<void> {
    if (this.dir) await checkpointInDir(this.dir, (location) => this.savepoint(location, position ? { position } : undefined));
  }

  protected async _close(): Promise<void> {
    for (const t of this.tables) t.clear();
  }

  /** Locks `dir` and restores (see restoreOnOpen); `openHeapBackend` calls this once. */
  async open(options: BackendOpenOptions<J>): Promise<this> {
    await this.restoreOnOpen(options, (from) => this.restore(from, options));
    return this;
  }

  /**
   * Restores the matched operators of a savepoint: every entry decoded (and migrated) now. Operators
   * whose keys or map keys migrate go through restoreRekeyed, which refuses (or merges) collisions.
   */
  async restore(location: string, options: BackendOpenOptions<J>): Promise<void> {
    const { savepoint, plan } = await this.restoreFrom(location, options);
    const range = this.keyGroupRange;
    const served = (keyGroup: number) => keyGroupInRange(keyGroup, range);
    for (const opPlan of plan.operators) {
      if (opPlan.status !== 'matched') continue;
      const op = this.operatorSlot(opPlan.uid);
      if (opPlan.rekey || opPlan.states.some((s) => s.rekeyMapKeys)) {
        await restoreRekeyed(savepoint, opPlan, op, served, (row) => this.insert(row.slot, row.key, row.namespace, row.slot.descriptor.type === 'map' ? [[row.mapKey, row.stored[0]]] : row.stored.map((v) => [undefined, v])));
        continue;
      }
      const decode = entryDecoder(opPlan);
      // A renamed operator's entries are stored under its previous uid.
      for await (const block of savepoint.blocks(opPlan.previousUid ?? opPlan.uid, { range })) {
        for (const raw of block) {
          if (!served(raw.keyGroup)) continue;
          const entry = decode(raw);
          if (!entry) continue;
          this.insert(op.states.get(entry.state.state)!, entry.key, entry.namespace, [[entry.mapKey, entry.value]]);
        }
      }
    }
  }

  /** Adds restored stored values (list: elements; map: [mapKey, value]) to a key's row. */
  private insert(slot: StateSlot, key: unknown, namespace: unknown, all: [unknown, unknown][]): void {
    // Values whose TTL has passed are not restored.
    const now = this.now();
    const items = slot.ttl ? all.filter(([, v]) => (v as TtlValue<unknown>).timestamp + slot.ttl!.ttlMs > now) : all;
    if (!items.length) return;
    const stored = items.map((i) => i[1]);
    const encoded = slot.encodeInto(stored);
    if (slot.descriptor.type === 'value') this._put(slot, key, namespace, stored[0], encoded);
    else if (slot.descriptor.type === 'list') this._appendList(slot, key, namespace, stored, encoded);
    else this._putMapValues(slot, key, namespace, items.map(([mapKey, value]) => ({ mapKey, mapKeyBytes: slot.encodeMapKey(mapKey), stored: value, encoded: slot.encodeInto([value]).slice() })));
  }
}

/** Row indexes in key-group order (stable). */
/**
 * Frames a row's entries as a data block holds them: its value, each list element or each map entry
 * (expired ones left out). A row's entries share their head (state, key group, key, namespace): it
 * is serialized for the first and copied for the others.
 */
function entryFramer(slot: StateSlot, now: number): FrameRow {
  const { keySerializer, namespaceSerializer } = slot.operator.declaration;
  const mapKeyWriter = slot.descriptor.type === 'map' ? slot.mapKeyWriter! : undefined;
  const { ttl, stateIndex, writer } = slot;
  // Where the current row's head lies in `out` (headEnd 0: not written yet).
  let headStart = 0;
  let headEnd = 0;
  const copyHead = (bytes: Uint8Array, at: number): number => {
    const end = at + headEnd - headStart;
    if (end > bytes.length) return bytes.length - end;
    bytes.copyWithin(at, headStart, headEnd);
    return end;
  };
  const entry = (out: DataOutput, row: Row, mapKey: unknown, stored: unknown): void => {
    if (ttl && (stored as TtlValue<unknown>).timestamp + ttl.ttlMs <= now) return;
    if (headEnd) out.writeInPlace(copyHead);
    else {
      headStart = out.length;
      out.writeVarUint(stateIndex);
      out.writeVarUint(row.keyGroup);
      lengthPrefixed(out, keySerializer, row.key);
      lengthPrefixed(out, namespaceSerializer, row.namespace);
      headEnd = out.length;
    }
    lengthPrefixed(out, mapKeyWriter, mapKey);
    out.writeVarUint(FIRST_VERSION);
    lengthPrefixed(out, writer, stored);
  };
  const type = slot.descriptor.type;
  return (out, row, data) => {
    headEnd = 0;
    if (type === 'value') entry(out, row, undefined, data);
    else if (type === 'list') for (const element of data as unknown[]) entry(out, row, undefined, element);
    else for (const [mapKey, value] of (data as MapData).values()) entry(out, row, mapKey, value);
  };
}

/** A varuint byte length, then `value` as `serializer` writes it (nothing without a serializer). */
function lengthPrefixed(out: DataOutput, serializer: { serialize(value: unknown, out: DataOutput): void } | undefined, value: unknown): void {
  const mark = out.beginLengthPrefixed();
  serializer?.serialize(value, out);
  out.endLengthPrefixed(mark);
}

/**
 * Opens a heap backend for `options.job`: from `options.restoreFrom` when given, else from the last
 * checkpoint in `options.dir` when there is one, else empty.
 */
export async function openHeapBackend<J extends JobDeclaration>(options: BackendOpenOptions<J>): Promise<HeapBackend<J>> {
  checkOpenOptions(options, 'openHeapBackend');
  return new HeapBackend(options).open(options);
}
