/**
 * The LevelDB key and value layout (local layout version 2).
 *
 * Key: state id (2 bytes big-endian), key group (2 bytes big-endian), the key bytes and the
 * namespace bytes each with a varuint length, then the map key bytes (map state). Length-prefixed
 * parts make prefix scans exact and let a savepoint split a key without decoding it.
 * Value: the schema version id (varuint), then the value bytes; for a list state, every element's
 * bytes one after the other (a list is one entry, so reading it is one point read).
 * State id 0xffff holds the database's own metadata, 0xfffe the undo log of uncommitted flushes.
 */
import { DataInput, DataOutput, putVarUint, varUintLength } from '@stateshift/core';

export const META_STATE = 0xffff;
export const UNDO_STATE = 0xfffe;
/** State ids are below the reserved ones. */
export const MAX_STATE_ID = 0xfffd;

export function statePrefix(stateId: number): Uint8Array {
  return new Uint8Array([stateId >> 8, stateId & 0xff]);
}

/** The first bytes of every key of a state in one key group. */
export function keyGroupPrefix(stateId: number, keyGroup: number): Uint8Array {
  return new Uint8Array([stateId >> 8, stateId & 0xff, keyGroup >> 8, keyGroup & 0xff]);
}

/** The first key after every key starting with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0xff, 0xff, 0xff, 0xff]);
}

/** A whole entry key in one allocation (the restore's hot path): as `entryKey(id, kg, keyPart(key, ns), suffix)`. */
export function entryKeyOf(stateId: number, keyGroup: number, key: Uint8Array, namespace: Uint8Array, suffix?: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + varUintLength(key.length) + key.length + varUintLength(namespace.length) + namespace.length + (suffix?.length ?? 0));
  out[0] = stateId >> 8;
  out[1] = stateId & 0xff;
  out[2] = keyGroup >> 8;
  out[3] = keyGroup & 0xff;
  let at = putVarUint(out, 4, key.length);
  out.set(key, at);
  at = putVarUint(out, at + key.length, namespace.length);
  out.set(namespace, at);
  if (suffix) out.set(suffix, at + namespace.length);
  return out;
}

/** The key and namespace part of an entry key. */
export function keyPart(key: Uint8Array, namespace: Uint8Array): Uint8Array {
  const out = new DataOutput(key.length + namespace.length + 4);
  out.writeBytes(key);
  out.writeBytes(namespace);
  return out.toBytes();
}

/** Splits the part after state id and key group into key, namespace and suffix. */
export function splitRest(rest: Uint8Array): { key: Uint8Array; namespace: Uint8Array; suffix: Uint8Array } {
  const input = new DataInput(rest);
  const key = input.readRaw(input.readLength('an entry key'));
  const namespace = input.readRaw(input.readLength('an entry namespace'));
  return { key, namespace, suffix: rest.subarray(input.offset) };
}

export function entryKey(stateId: number, keyGroup: number, keyAndNamespace: Uint8Array, suffix?: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + keyAndNamespace.length + (suffix?.length ?? 0));
  out[0] = stateId >> 8;
  out[1] = stateId & 0xff;
  out[2] = keyGroup >> 8;
  out[3] = keyGroup & 0xff;
  out.set(keyAndNamespace, 4);
  if (suffix) out.set(suffix, 4 + keyAndNamespace.length);
  return out;
}

export interface ParsedKey {
  stateId: number;
  keyGroup: number;
  /** Key, namespace and suffix bytes. */
  rest: Uint8Array;
}

export function parseKey(key: Uint8Array): ParsedKey {
  return { stateId: (key[0] << 8) | key[1], keyGroup: (key[2] << 8) | key[3], rest: key.subarray(4) };
}

export function parseValue(value: Uint8Array): { version: number; bytes: Uint8Array } {
  const input = new DataInput(value);
  const version = input.readVarUint();
  return { version, bytes: value.subarray(input.offset) };
}

export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** An entry value: version id then the given bytes, in one allocation. */
export function versioned(version: number, bytes: Uint8Array, more?: Uint8Array): Uint8Array {
  const head = varUintLength(version);
  const out = new Uint8Array(head + bytes.length + (more?.length ?? 0));
  putVarUint(out, 0, version);
  out.set(bytes, head);
  if (more) out.set(more, head + bytes.length);
  return out;
}

/** Whether `key` begins with `prefix`. */
export function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/** The first index of sorted `keys` whose key is not below `target`. */
export function lowerBound(keys: Uint8Array[], target: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Buffer.compare(keys[mid], target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
