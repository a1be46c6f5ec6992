/** The typed state handles over heap tables. Heap operations complete at once; they are async to match the LSM backend. */
import { DataOutput, type Serializer, type StateDescriptor } from '@stateshift/core';
import type { ListStateHandle, MapStateHandle, ValueStateHandle } from '@stateshift/savepoint';
import type { KeyEncoder } from './keys.js';
import { bytesToId } from './keys.js';
import type { StateTable } from './table.js';
import { EXPIRED, Expiry } from './ttl.js';

/** What a handle needs from its operator. */
export interface HandleContext {
  table: StateTable;
  keys: KeyEncoder;
  descriptor: StateDescriptor;
  expiry: Expiry;
  /** Throws when the key group is not served by this instance. */
  checkKeyGroup(keyGroup: number, key: unknown): void;
}

const scratch = new DataOutput(256);

/** Writes happen as objects; checking them now makes a bad value fail here, not at the next savepoint. */
function check(serializer: Serializer<unknown>, value: unknown): void {
  scratch.reset();
  serializer.serialize(value, scratch);
}

function locate(ctx: HandleContext, key: unknown, namespace: unknown) {
  const at = ctx.keys.encode(key, namespace);
  ctx.checkKeyGroup(at.keyGroup, key);
  return at;
}

export function valueHandle<K, T, N>(ctx: HandleContext): ValueStateHandle<K, T, N> {
  const { table, expiry, descriptor } = ctx;
  const get = (key: K, namespace?: N): T | undefined => {
    const at = locate(ctx, key, namespace);
    const row = table.get(at.keyGroup, at.id);
    if (!row) return undefined;
    const value = expiry.read(row.data);
    if (value === EXPIRED) {
      table.delete(at.keyGroup, at.id);
      return undefined;
    }
    return value as T;
  };
  const set = (key: K, value: T, namespace?: N): void => {
    if (value === undefined) throw new TypeError(`value state "${descriptor.name}": set() needs a value; use clear() to remove one`);
    check(descriptor.serializer, value);
    const at = locate(ctx, key, namespace);
    table.set(at.keyGroup, at.id, { key, namespace, data: expiry.wrap(value) });
  };
  return {
    get: async (key, namespace) => get(key, namespace),
    set: async (key, value, namespace) => set(key, value, namespace),
    update: async (key, fn, namespace) => {
      const next = fn(get(key, namespace));
      set(key, next, namespace);
      return next;
    },
    clear: async (key, namespace) => {
      const at = locate(ctx, key, namespace);
      table.delete(at.keyGroup, at.id);
    },
  };
}

export function listHandle<K, E, N>(ctx: HandleContext): ListStateHandle<K, E, N> {
  const { table, expiry, descriptor } = ctx;
  const live = (key: K, namespace: N | undefined) => {
    const at = locate(ctx, key, namespace);
    const row = table.get(at.keyGroup, at.id);
    if (row && expiry.enabled) {
      row.data = (row.data as unknown[]).filter((e) => expiry.alive(e));
      if (!(row.data as unknown[]).length) {
        table.delete(at.keyGroup, at.id);
        return { at, row: undefined };
      }
    }
    return { at, row };
  };
  const addAll = (key: K, elements: E[], namespace?: N) => {
    if (!Array.isArray(elements)) throw new TypeError(`list state "${descriptor.name}": expected an array of elements`);
    for (const e of elements) check(descriptor.serializer, e);
    if (!elements.length) return;
    const { at, row } = live(key, namespace);
    const wrapped = elements.map((e) => expiry.wrap(e));
    if (row) (row.data as unknown[]).push(...wrapped);
    else table.set(at.keyGroup, at.id, { key, namespace, data: wrapped });
  };
  return {
    get: async (key, namespace) => {
      const { row } = live(key, namespace);
      if (!row) return [];
      return (row.data as unknown[]).map((e) => expiry.read(e)) as E[];
    },
    add: async (key, element, namespace) => addAll(key, [element], namespace),
    addAll: async (key, elements, namespace) => addAll(key, elements, namespace),
    update: async (key, elements, namespace) => {
      const at = locate(ctx, key, namespace);
      table.delete(at.keyGroup, at.id);
      addAll(key, elements, namespace);
    },
    clear: async (key, namespace) => {
      const at = locate(ctx, key, namespace);
      table.delete(at.keyGroup, at.id);
    },
  };
}

type MapData = Map<string, [unknown, unknown]>;

export function mapHandle<K, UK, UV, N>(ctx: HandleContext): MapStateHandle<K, UK, UV, N> {
  const { table, expiry, descriptor, keys } = ctx;
  if (descriptor.type !== 'map') throw new TypeError(`state "${descriptor.name}" is a ${descriptor.type} state`);
  const mapKeySerializer = descriptor.keySerializer as Serializer<unknown>;
  const idOf = (mapKey: UK) => bytesToId(keys.bytesOf(mapKeySerializer, mapKey));
  const rowOf = (key: K, namespace: N | undefined, create: boolean) => {
    const at = locate(ctx, key, namespace);
    let row = table.get(at.keyGroup, at.id);
    if (!row && create) table.set(at.keyGroup, at.id, (row = { key, namespace, data: new Map() as MapData }));
    return { at, row, data: row?.data as MapData | undefined };
  };
  const getLive = (data: MapData | undefined, id: string): UV | undefined => {
    const pair = data?.get(id);
    if (!pair) return undefined;
    const value = expiry.read(pair[1]);
    if (value === EXPIRED) {
      data!.delete(id);
      return undefined;
    }
    return value as UV;
  };
  const put = (key: K, mapKey: UK, value: UV, namespace?: N) => {
    check(descriptor.serializer, value);
    const id = idOf(mapKey);
    rowOf(key, namespace, true).data!.set(id, [mapKey, expiry.wrap(value)]);
  };
  const dropIfEmpty = (at: { keyGroup: number; id: string }, data: MapData | undefined) => {
    if (data && !data.size) table.delete(at.keyGroup, at.id);
  };
  return {
    get: async (key, mapKey, namespace) => {
      const { data } = rowOf(key, namespace, false);
      return getLive(data, idOf(mapKey));
    },
    put: async (key, mapKey, value, namespace) => put(key, mapKey, value, namespace),
    putAll: async (key, entries, namespace) => {
      for (const [k, v] of entries) put(key, k, v, namespace);
    },
    remove: async (key, mapKey, namespace) => {
      const { at, data } = rowOf(key, namespace, false);
      data?.delete(idOf(mapKey));
      dropIfEmpty(at, data);
    },
    contains: async (key, mapKey, namespace) => {
      const { data } = rowOf(key, namespace, false);
      return getLive(data, idOf(mapKey)) !== undefined;
    },
    entries: (key, namespace) => {
      const { data } = rowOf(key, namespace, false);
      const pairs = [...(data?.entries() ?? [])];
      return (async function* () {
        for (const [id, [mapKey]] of pairs) {
          const value = getLive(data, id);
          if (value !== undefined) yield [mapKey as UK, value] as [UK, UV];
        }
      })();
    },
    clear: async (key, namespace) => {
      const at = locate(ctx, key, namespace);
      table.delete(at.keyGroup, at.id);
    },
  };
}
