/**
 * A minimal reference backend for the suite's self test (abstract-level's test/self.js): state as
 * encoded bytes in maps, checkpoints as savepoints under `dir`. Everything else (handles, checks,
 * TTL, copying, the restore plan, savepoints) is AbstractStateBackend's.
 */
import { DataInput, keyGroupInRange, supports, type BackendOpenOptions, type JobDeclaration, type TtlValue } from '@stateshift/core';
import { entryDecoder, FIRST_VERSION, type RawEntry, type SavepointWriter } from '@stateshift/savepoint';
import { AbstractStateBackend, checkOpenOptions, checkpointInDir, restoreRekeyed, type ExportCut, type MapEntryWrite, type StateSlot } from '../src/index.js';

interface Row {
  keyGroup: number;
  keyNs: Uint8Array;
  /** Value state: the stored value's bytes. List state: one chunk per write, elements back to back. Map state: [map key bytes, value bytes] by map key. */
  value?: Uint8Array;
  list?: Uint8Array[];
  map?: Map<string, [Uint8Array, Uint8Array]>;
}

/** Rows are replaced, never changed in place, so a cut is a shallow copy of the tables. */
type Tables = Map<string, Row>[];

const EMPTY = new Uint8Array(0);
const id = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

export class MemoryBackend<J extends JobDeclaration = JobDeclaration> extends AbstractStateBackend<J> {
  readonly supports = supports({ persistence: true });
  private tables: Tables;
  private readonly dir: string | undefined;

  constructor(options: BackendOpenOptions<J>) {
    super(options);
    this.dir = options.dir;
    this.tables = this.slots.map(() => new Map());
  }

  private row(slot: StateSlot, key: unknown, namespace: unknown): [string, Row | undefined, number, Uint8Array] {
    const at = slot.operator.locate(key, namespace);
    const rowId = id(at.keyNs);
    return [rowId, this.tables[slot.index].get(rowId), at.keyGroup, at.keyNs];
  }

  private decodeAll(slot: StateSlot, bytes: Uint8Array): unknown[] {
    const input = new DataInput(bytes);
    const out: unknown[] = [];
    while (!input.atEnd) out.push(slot.writer.deserialize(input));
    return out;
  }

  _get(slot: StateSlot, key: unknown, namespace: unknown): unknown {
    const value = this.row(slot, key, namespace)[1]?.value;
    return value && this.decodeAll(slot, value)[0];
  }

  _put(slot: StateSlot, key: unknown, namespace: unknown, _stored: unknown, encoded: Uint8Array): void {
    const [rowId, , keyGroup, keyNs] = this.row(slot, key, namespace);
    this.tables[slot.index].set(rowId, { keyGroup, keyNs: keyNs.slice(), value: encoded.slice() });
  }

  _delete(slot: StateSlot, key: unknown, namespace: unknown): void {
    this.tables[slot.index].delete(this.row(slot, key, namespace)[0]);
  }

  _getList(slot: StateSlot, key: unknown, namespace: unknown): unknown[] {
    return (this.row(slot, key, namespace)[1]?.list ?? []).flatMap((chunk) => this.decodeAll(slot, chunk));
  }

  _putList(slot: StateSlot, key: unknown, namespace: unknown, _stored: unknown[], encoded: Uint8Array): void {
    const [rowId, , keyGroup, keyNs] = this.row(slot, key, namespace);
    this.tables[slot.index].set(rowId, { keyGroup, keyNs: keyNs.slice(), list: [encoded.slice()] });
  }

  _appendList(slot: StateSlot, key: unknown, namespace: unknown, _stored: unknown[], encoded: Uint8Array): void {
    const [rowId, row, keyGroup, keyNs] = this.row(slot, key, namespace);
    this.tables[slot.index].set(rowId, { keyGroup, keyNs: keyNs.slice(), list: [...(row?.list ?? []), encoded.slice()] });
  }

  _getMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): unknown {
    const entry = this.row(slot, key, namespace)[1]?.map?.get(id(mapKeyBytes));
    return entry && this.decodeAll(slot, entry[1])[0];
  }

  _putMapValues(slot: StateSlot, key: unknown, namespace: unknown, entries: MapEntryWrite[]): void {
    const [rowId, row, keyGroup, keyNs] = this.row(slot, key, namespace);
    const map = new Map(row?.map);
    for (const e of entries) map.set(id(e.mapKeyBytes), [e.mapKeyBytes.slice(), e.encoded.slice()]);
    this.tables[slot.index].set(rowId, { keyGroup, keyNs: keyNs.slice(), map });
  }

  _deleteMapValue(slot: StateSlot, key: unknown, namespace: unknown, mapKeyBytes: Uint8Array): void {
    const [rowId, row, keyGroup, keyNs] = this.row(slot, key, namespace);
    if (!row?.map?.has(id(mapKeyBytes))) return;
    const map = new Map(row.map);
    map.delete(id(mapKeyBytes));
    if (map.size) this.tables[slot.index].set(rowId, { keyGroup, keyNs: row.keyNs, map });
    else this.tables[slot.index].delete(rowId);
  }

  _mapEntries(slot: StateSlot, key: unknown, namespace: unknown): AsyncIterable<[unknown, unknown]> {
    const entries = [...(this.row(slot, key, namespace)[1]?.map?.values() ?? [])];
    const mapKeyWriter = slot.mapKeyWriter!;
    return (async function* (decode: (bytes: Uint8Array) => unknown) {
      for (const [mapKey, value] of entries) yield [mapKeyWriter.deserialize(new DataInput(mapKey)), decode(value)] as [unknown, unknown];
    })((bytes) => this.decodeAll(slot, bytes)[0]);
  }

  _keys(slot: StateSlot): AsyncIterable<{ key: unknown; namespace: unknown }> {
    const rows = [...this.tables[slot.index].values()];
    const { keySerializer, namespaceSerializer } = slot.operator.declaration;
    return (async function* () {
      for (const row of rows) {
        const [key, namespace] = splitKeyNs(row.keyNs);
        yield { key: keySerializer.deserialize(new DataInput(key)), namespace: namespaceSerializer?.deserialize(new DataInput(namespace)) };
      }
    })();
  }

  protected _beginExport(): ExportCut & { tables: Tables } {
    return { tables: this.tables.map((t) => new Map(t)) };
  }

  protected async _exportState(writer: SavepointWriter, cut: ExportCut): Promise<void> {
    const { tables } = cut as ExportCut & { tables: Tables };
    const now = this.now();
    for (const op of this.operatorSlots) {
      const entries: RawEntry[] = [];
      for (const slot of op.states.values()) {
        const alive = (bytes: Uint8Array) => !slot.ttl || (this.decodeAll(slot, bytes)[0] as TtlValue<unknown>).timestamp + slot.ttl.ttlMs > now;
        for (const row of tables[slot.index].values()) {
          const [key, namespace] = splitKeyNs(row.keyNs);
          const base = { state: slot.stateIndex, keyGroup: row.keyGroup, key, namespace, version: FIRST_VERSION };
          const values: [Uint8Array, Uint8Array][] = row.value
            ? [[EMPTY, row.value]]
            : row.list
              ? row.list.flatMap((chunk) => splitValues(slot, chunk)).map((v) => [EMPTY, v])
              : [...row.map!.values()];
          for (const [mapKey, value] of values) if (alive(value)) entries.push({ ...base, mapKey, value });
        }
      }
      if (!entries.length) continue;
      entries.sort((a, b) => a.keyGroup - b.keyGroup);
      const file = await writer.openDataFile(op.uid, this.keyGroupRange);
      for (const entry of entries) await file.append(entry);
      await writer.closeDataFile(file);
    }
  }

  protected async _checkpoint(position: Uint8Array | undefined): Promise<void> {
    if (this.dir) await checkpointInDir(this.dir, (location) => this.savepoint(location, position ? { position } : undefined));
  }

  protected async _close(): Promise<void> {
    this.tables = [];
  }

  /** Locks `dir` and restores (see restoreOnOpen). */
  async open(options: BackendOpenOptions<J>): Promise<this> {
    await this.restoreOnOpen(options, (from) => this.restore(from, options));
    return this;
  }

  /** Restores a savepoint through the plan: entries decoded (and migrated, re-keyed) by the shared code. */
  async restore(location: string, options: BackendOpenOptions<J>): Promise<void> {
    const { savepoint, plan } = await this.restoreFrom(location, options);
    const served = (keyGroup: number) => keyGroupInRange(keyGroup, this.keyGroupRange);
    for (const opPlan of plan.operators) {
      if (opPlan.status !== 'matched') continue;
      const op = this.operatorSlot(opPlan.uid);
      if (opPlan.rekey || opPlan.states.some((s) => s.rekeyMapKeys)) {
        await restoreRekeyed(savepoint, opPlan, op, served, (row) =>
          this.insert(row.slot, row.key, row.namespace, row.slot.descriptor.type === 'map' ? [[row.mapKey, row.stored[0]]] : row.stored.map((v) => [undefined, v])),
        );
        continue;
      }
      const decode = entryDecoder(opPlan);
      for await (const raw of savepoint.entries(opPlan.uid, { range: this.keyGroupRange })) {
        const entry = decode(raw);
        if (!entry) continue;
        const slot = op.states.get(entry.state.state)!;
        if (served(op.locateUnchecked(entry.key, entry.namespace).keyGroup)) this.insert(slot, entry.key, entry.namespace, [[entry.mapKey, entry.value]]);
      }
    }
  }

  private insert(slot: StateSlot, key: unknown, namespace: unknown, items: [unknown, unknown][]): void {
    const now = this.now();
    const alive = slot.ttl ? items.filter(([, v]) => (v as TtlValue<unknown>).timestamp + slot.ttl!.ttlMs > now) : items;
    for (const [mapKey, stored] of alive) {
      const encoded = slot.encodeInto([stored]);
      if (slot.descriptor.type === 'value') this._put(slot, key, namespace, stored, encoded);
      else if (slot.descriptor.type === 'list') this._appendList(slot, key, namespace, [stored], encoded);
      else this._putMapValues(slot, key, namespace, [{ mapKey, mapKeyBytes: slot.encodeMapKey(mapKey), stored, encoded }]);
    }
  }
}

/** keyNs is the key's bytes then the namespace's, each length-prefixed. */
function splitKeyNs(keyNs: Uint8Array): [Uint8Array, Uint8Array] {
  const input = new DataInput(keyNs);
  return [input.readBytes(), input.readBytes()];
}

/** The bytes of each value in a chunk of values written back to back. */
function splitValues(slot: StateSlot, chunk: Uint8Array): Uint8Array[] {
  const input = new DataInput(chunk);
  const out: Uint8Array[] = [];
  while (!input.atEnd) {
    const start = input.offset;
    slot.writer.deserialize(input);
    out.push(chunk.subarray(start, input.offset));
  }
  return out;
}

/** Opens the reference backend: from `restoreFrom`, else from the last checkpoint in `dir`, else empty. */
export async function openMemoryBackend<J extends JobDeclaration>(options: BackendOpenOptions<J>): Promise<MemoryBackend<J>> {
  checkOpenOptions(options, 'openMemoryBackend');
  return new MemoryBackend(options).open(options);
}
