/**
 * The public state handles, written once for every backend: argument checks, encoding (which is
 * also validation: a value the serializer cannot write fails here and nothing is stored), TTL with
 * the injected clock on every path, and all-or-nothing writes. Storage is the private API's.
 */
import type { ListStateHandle, MapStateHandle, TtlValue, ValueStateHandle } from '@stateshift/core';
import type { MapEntryWrite, PrivateStateApi } from './private-api.js';
import type { StateSlot } from './slots.js';

/** What handles need from their backend besides storage. */
export interface HandleHost extends PrivateStateApi {
  /** Throws BackendClosedError after close. */
  checkOpen(what: string): void;
  now(): number;
}

type Ttl = { wrap(value: unknown): unknown; read(stored: unknown): { alive: boolean; value: unknown; refreshed?: unknown } };

function ttlOf(slot: StateSlot, host: HandleHost): Ttl | undefined {
  const config = slot.ttl;
  if (!config) return undefined;
  const onRead = config.update === 'onReadAndWrite';
  return {
    wrap: (value) => ({ value, timestamp: host.now() }) satisfies TtlValue<unknown>,
    read: (stored) => {
      const { value, timestamp } = stored as TtlValue<unknown>;
      const now = host.now();
      if (timestamp + config.ttlMs <= now) return { alive: false, value: undefined };
      return onRead && timestamp !== now ? { alive: true, value, refreshed: { value, timestamp: now } } : { alive: true, value };
    },
  };
}

function requireValue(slot: StateSlot, value: unknown, method: string): void {
  if (value === undefined) throw new TypeError(`${slot.descriptor.type} state "${slot.uid}"/"${slot.name}": ${method}() needs a value; use clear() or remove() to delete one`);
}

export function valueHandle(host: HandleHost, slot: StateSlot): ValueStateHandle<unknown, unknown, unknown> {
  const ttl = ttlOf(slot, host);
  const what = `value state "${slot.uid}"/"${slot.name}"`;
  const get = (key: unknown, namespace?: unknown): unknown => {
    host.checkOpen(what);
    const stored = host._get(slot, key, namespace);
    if (stored === undefined || !ttl) return stored;
    const read = ttl.read(stored);
    if (!read.alive) {
      host._delete(slot, key, namespace);
      return undefined;
    }
    if (read.refreshed) host._put(slot, key, namespace, read.refreshed, slot.encodeInto([read.refreshed]));
    return read.value;
  };
  const set = (key: unknown, value: unknown, namespace?: unknown): void => {
    host.checkOpen(what);
    requireValue(slot, value, 'set');
    const stored = ttl ? ttl.wrap(value) : value;
    host._put(slot, key, namespace, stored, slot.encodeInto([stored]));
  };
  return {
    name: slot.name,
    get,
    set,
    update: (key, fn, namespace) => {
      const next = fn(get(key, namespace));
      set(key, next, namespace);
      return next;
    },
    clear: (key, namespace) => {
      host.checkOpen(what);
      host._delete(slot, key, namespace);
    },
  };
}

export function listHandle(host: HandleHost, slot: StateSlot): ListStateHandle<unknown, unknown, unknown> {
  const ttl = ttlOf(slot, host);
  const what = `list state "${slot.uid}"/"${slot.name}"`;
  const checkArray = (elements: unknown, method: string) => {
    if (!Array.isArray(elements)) throw new TypeError(`${what}: ${method}() needs an array of elements`);
    for (const e of elements) requireValue(slot, e, method);
  };
  const write = (key: unknown, namespace: unknown, elements: readonly unknown[], replace: boolean) => {
    const stored = ttl ? elements.map((e) => ttl.wrap(e)) : elements.slice();
    if (!stored.length) {
      if (replace) host._delete(slot, key, namespace);
      return;
    }
    const encoded = slot.encodeInto(stored, 'element');
    if (replace) host._putList(slot, key, namespace, stored, encoded);
    else host._appendList(slot, key, namespace, stored, encoded);
  };
  return {
    name: slot.name,
    get: (key, namespace) => {
      host.checkOpen(what);
      const stored = host._getList(slot, key, namespace);
      if (!ttl || !stored.length) return stored;
      const kept: unknown[] = [];
      const values: unknown[] = [];
      let changed = false;
      for (const s of stored) {
        const read = ttl.read(s);
        if (!read.alive) {
          changed = true;
          continue;
        }
        if (read.refreshed) changed = true;
        kept.push(read.refreshed ?? s);
        values.push(read.value);
      }
      if (changed) {
        if (kept.length) host._putList(slot, key, namespace, kept, slot.encodeInto(kept, 'element'));
        else host._delete(slot, key, namespace);
      }
      return values;
    },
    add: (key, element, namespace) => {
      host.checkOpen(what);
      requireValue(slot, element, 'add');
      write(key, namespace, [element], false);
    },
    addAll: (key, elements, namespace) => {
      host.checkOpen(what);
      checkArray(elements, 'addAll');
      write(key, namespace, elements, false);
    },
    update: (key, elements, namespace) => {
      host.checkOpen(what);
      checkArray(elements, 'update');
      write(key, namespace, elements, true);
    },
    clear: (key, namespace) => {
      host.checkOpen(what);
      host._delete(slot, key, namespace);
    },
  };
}

export function mapHandle(host: HandleHost, slot: StateSlot): MapStateHandle<unknown, unknown, unknown, unknown> {
  const ttl = ttlOf(slot, host);
  const what = `map state "${slot.uid}"/"${slot.name}"`;
  const get = (key: unknown, mapKey: unknown, namespace?: unknown): unknown => {
    host.checkOpen(what);
    const mapKeyBytes = slot.encodeMapKey(mapKey);
    const stored = host._getMapValue(slot, key, namespace, mapKeyBytes);
    if (stored === undefined || !ttl) return stored;
    const read = ttl.read(stored);
    if (!read.alive) {
      host._deleteMapValue(slot, key, namespace, mapKeyBytes);
      return undefined;
    }
    if (read.refreshed) {
      const encoded = slot.encodeInto([read.refreshed]).slice();
      host._putMapValues(slot, key, namespace, [{ mapKey: slot.copyMapKey(mapKey), mapKeyBytes, stored: read.refreshed, encoded }]);
    }
    return read.value;
  };
  const entryOf = (mapKey: unknown, value: unknown): MapEntryWrite => {
    requireValue(slot, value, 'put');
    const mapKeyBytes = slot.encodeMapKey(mapKey);
    const stored = ttl ? ttl.wrap(value) : value;
    return { mapKey: slot.copyMapKey(mapKey), mapKeyBytes, stored, encoded: slot.encodeInto([stored]).slice() };
  };
  return {
    name: slot.name,
    get,
    put: (key, mapKey, value, namespace) => {
      host.checkOpen(what);
      host._putMapValues(slot, key, namespace, [entryOf(mapKey, value)]);
    },
    putAll: (key, entries, namespace) => {
      host.checkOpen(what);
      if (entries === null || typeof (entries as Iterable<unknown>)[Symbol.iterator] !== 'function') throw new TypeError(`${what}: putAll() needs an iterable of [mapKey, value] pairs`);
      // Every entry is checked and encoded before any is stored: all or nothing.
      const writes: MapEntryWrite[] = [];
      for (const pair of entries) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError(`${what}: putAll() needs [mapKey, value] pairs`);
        writes.push(entryOf(pair[0], pair[1]));
      }
      if (writes.length) host._putMapValues(slot, key, namespace, writes);
    },
    remove: (key, mapKey, namespace) => {
      host.checkOpen(what);
      host._deleteMapValue(slot, key, namespace, slot.encodeMapKey(mapKey));
    },
    contains: (key, mapKey, namespace) => get(key, mapKey, namespace) !== undefined,
    entries: (key, namespace) => {
      host.checkOpen(what);
      const source = host._mapEntries(slot, key, namespace);
      return (async function* () {
        for await (const [mapKey, stored] of source) {
          if (!ttl) {
            yield [mapKey, stored] as [unknown, unknown];
            continue;
          }
          const read = ttl.read(stored);
          if (read.alive) yield [mapKey, read.value] as [unknown, unknown];
        }
      })();
    },
    clear: (key, namespace) => {
      host.checkOpen(what);
      host._delete(slot, key, namespace);
    },
  };
}
