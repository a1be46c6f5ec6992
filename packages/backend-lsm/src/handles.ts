/** Typed state handles over LevelDB. Writes are acknowledged once LevelDB has them in its log. */
import type { ListStateHandle, MapStateHandle, ValueStateHandle } from '@stateshift/savepoint';
import { entryKey, entryValue, parseValue, prefixEnd, Sequence } from './layout.js';
import type { Db } from './local-metadata.js';
import { bytesOf, liveValue, readAll, wrapValue, type StateRuntime } from './state-runtime.js';

export interface HandleContext {
  db: Db;
  state: StateRuntime;
  sequence: Sequence;
  now(): number;
  /** Key group and key-and-namespace bytes, checked against the served range. */
  locate(key: unknown, namespace: unknown): { keyGroup: number; keyNs: Uint8Array };
  /** Runs a write exclusively (the background migration pass takes the same lock). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  writeOptions: { sync: boolean };
}

function decode(ctx: HandleContext, stored: Uint8Array): unknown {
  const { version, bytes } = parseValue(stored);
  const reader = ctx.state.readers.get(version);
  if (!reader) throw new TypeError(`state "${ctx.state.uid}/${ctx.state.descriptor.name}" has an entry of schema version ${version}, which the local metadata does not list`);
  return liveValue(ctx.state, readAll(reader, bytes), ctx.now());
}

function encode(ctx: HandleContext, value: unknown): Uint8Array {
  return entryValue(ctx.state.newest, bytesOf(ctx.state.writer, wrapValue(ctx.state, value, ctx.now())));
}

function range(prefix: Uint8Array) {
  return { gte: prefix, lt: prefixEnd(prefix) };
}

export function valueHandle<K, T, N>(ctx: HandleContext): ValueStateHandle<K, T, N> {
  const keyOf = (key: K, namespace?: N) => {
    const at = ctx.locate(key, namespace);
    return entryKey(ctx.state.id, at.keyGroup, at.keyNs);
  };
  const get = async (key: K, namespace?: N) => {
    const stored = await ctx.db.get(keyOf(key, namespace));
    return stored === undefined ? undefined : (decode(ctx, stored) as T | undefined);
  };
  const set = async (key: K, value: T, namespace?: N) => {
    if (value === undefined) throw new TypeError(`value state "${ctx.state.descriptor.name}": set() needs a value; use clear() to remove one`);
    const k = keyOf(key, namespace);
    const v = encode(ctx, value);
    await ctx.exclusive(() => ctx.db.put(k, v, ctx.writeOptions));
  };
  return {
    get,
    set,
    update: async (key, fn, namespace) => {
      const next = fn(await get(key, namespace));
      await set(key, next, namespace);
      return next;
    },
    clear: async (key, namespace) => {
      const k = keyOf(key, namespace);
      await ctx.exclusive(() => ctx.db.del(k, ctx.writeOptions));
    },
  };
}

export function listHandle<K, E, N>(ctx: HandleContext): ListStateHandle<K, E, N> {
  const prefixOf = (key: K, namespace?: N) => {
    const at = ctx.locate(key, namespace);
    return entryKey(ctx.state.id, at.keyGroup, at.keyNs);
  };
  const puts = (prefix: Uint8Array, elements: E[]) => {
    if (!Array.isArray(elements)) throw new TypeError(`list state "${ctx.state.descriptor.name}": expected an array of elements`);
    return elements.map((e) => ({ type: 'put' as const, key: concat(prefix, ctx.sequence.next()), value: encode(ctx, e) }));
  };
  const clearOps = async (prefix: Uint8Array) => {
    const keys = await ctx.db.keys(range(prefix)).all();
    return keys.map((key) => ({ type: 'del' as const, key }));
  };
  return {
    get: async (key, namespace) => {
      const values = await ctx.db.values(range(prefixOf(key, namespace))).all();
      return values.map((v) => decode(ctx, v)).filter((v) => v !== undefined) as E[];
    },
    // Appending never reads the list: each element is an entry of its own.
    add: async (key, element, namespace) => {
      const [op] = puts(prefixOf(key, namespace), [element]);
      await ctx.exclusive(() => ctx.db.put(op.key, op.value, ctx.writeOptions));
    },
    addAll: async (key, elements, namespace) => {
      const ops = puts(prefixOf(key, namespace), elements);
      if (ops.length) await ctx.exclusive(() => ctx.db.batch(ops, ctx.writeOptions));
    },
    update: async (key, elements, namespace) => {
      const prefix = prefixOf(key, namespace);
      const ops = puts(prefix, elements);
      await ctx.exclusive(async () => ctx.db.batch([...(await clearOps(prefix)), ...ops], ctx.writeOptions));
    },
    clear: async (key, namespace) => {
      const prefix = prefixOf(key, namespace);
      await ctx.exclusive(async () => ctx.db.batch(await clearOps(prefix), ctx.writeOptions));
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function mapHandle<K, UK, UV, N>(ctx: HandleContext): MapStateHandle<K, UK, UV, N> {
  const descriptor = ctx.state.descriptor;
  if (descriptor.type !== 'map') throw new TypeError(`state "${descriptor.name}" is a ${descriptor.type} state`);
  const mapKeyWriter = ctx.state.mapKeyWriter!;
  const prefixOf = (key: K, namespace?: N) => {
    const at = ctx.locate(key, namespace);
    return entryKey(ctx.state.id, at.keyGroup, at.keyNs);
  };
  const keyOf = (key: K, mapKey: UK, namespace?: N) => concat(prefixOf(key, namespace), bytesOf(mapKeyWriter, mapKey));
  const get = async (key: K, mapKey: UK, namespace?: N) => {
    const stored = await ctx.db.get(keyOf(key, mapKey, namespace));
    return stored === undefined ? undefined : (decode(ctx, stored) as UV | undefined);
  };
  return {
    get,
    put: async (key, mapKey, value, namespace) => {
      const k = keyOf(key, mapKey, namespace);
      const v = encode(ctx, value);
      await ctx.exclusive(() => ctx.db.put(k, v, ctx.writeOptions));
    },
    putAll: async (key, entries, namespace) => {
      const ops = [...entries].map(([mk, v]) => ({ type: 'put' as const, key: keyOf(key, mk, namespace), value: encode(ctx, v) }));
      if (ops.length) await ctx.exclusive(() => ctx.db.batch(ops, ctx.writeOptions));
    },
    remove: async (key, mapKey, namespace) => {
      const k = keyOf(key, mapKey, namespace);
      await ctx.exclusive(() => ctx.db.del(k, ctx.writeOptions));
    },
    contains: async (key, mapKey, namespace) => (await get(key, mapKey, namespace)) !== undefined,
    entries: (key, namespace) => {
      const prefix = prefixOf(key, namespace);
      const mapKeyReader = ctx.state.mapKeyWriter!;
      const db = ctx.db;
      return (async function* () {
        for await (const [k, v] of db.iterator(range(prefix))) {
          const value = decode(ctx, v);
          if (value !== undefined) yield [readAll(mapKeyReader, k.subarray(prefix.length)) as UK, value as UV] as [UK, UV];
        }
      })();
    },
    clear: async (key, namespace) => {
      const prefix = prefixOf(key, namespace);
      await ctx.exclusive(() => ctx.db.clear(range(prefix)));
    },
  };
}
