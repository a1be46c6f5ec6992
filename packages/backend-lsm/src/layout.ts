/**
 * The LevelDB key and value layout.
 *
 * Key: state id (2 bytes big-endian), key group (2 bytes big-endian), the key bytes and the
 * namespace bytes each with a varuint length, then the map key bytes (map state). A list is one
 * entry. Length-prefixed parts make prefix scans exact and let a savepoint split a key without
 * decoding it.
 * Value: the schema version id (varuint), then the value bytes (a list: every element's bytes, one
 * after the other; elements self-delimit).
 * State id 0xffff holds the database's own metadata, 0xfffe the undo records of flushes made since
 * the last checkpoint.
 */
import { DataInput } from '@stateshift/core';

export const META_STATE = 0xffff;
export const UNDO_STATE = 0xfffe;
/** State ids are below the reserved ones. */
export const MAX_STATE_ID = 0xfffd;

export function statePrefix(stateId: number): Uint8Array {
  return new Uint8Array([stateId >> 8, stateId & 0xff]);
}

/** The first key after every key starting with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = new Uint8Array(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0xff, 0xff, 0xff, 0xff]);
}

export function varUintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

export function putVarUint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/** A whole entry key in one allocation, from a savepoint entry's parts. */
export function entryKeyOf(stateId: number, keyGroup: number, key: Uint8Array, namespace: Uint8Array, suffix?: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(4 + varUintLength(key.length) + key.length + varUintLength(namespace.length) + namespace.length + (suffix?.length ?? 0));
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

/** An entry key from the key-and-namespace part (as `OperatorSlot.locate` gives it), in one allocation. */
export function entryKey(stateId: number, keyGroup: number, keyNs: Uint8Array, suffix?: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(4 + keyNs.length + (suffix?.length ?? 0));
  out[0] = stateId >> 8;
  out[1] = stateId & 0xff;
  out[2] = keyGroup >> 8;
  out[3] = keyGroup & 0xff;
  out.set(keyNs, 4);
  if (suffix) out.set(suffix, 4 + keyNs.length);
  return out;
}

/** Splits the part after state id and key group into key, namespace and suffix (the map key). */
export function splitRest(rest: Uint8Array): { key: Uint8Array; namespace: Uint8Array; suffix: Uint8Array } {
  const input = new DataInput(rest);
  const key = input.readRaw(input.readLength('an entry key'));
  const namespace = input.readRaw(input.readLength('an entry namespace'));
  return { key, namespace, suffix: rest.subarray(input.offset) };
}

export function stateIdOf(key: Uint8Array): number {
  return (key[0] << 8) | key[1];
}

export function keyGroupOfKey(key: Uint8Array): number {
  return (key[2] << 8) | key[3];
}

/** A stored value: version id then `bytes`, in one allocation. */
export function entryValue(version: number, bytes: Uint8Array): Uint8Array {
  const head = varUintLength(version);
  const out = Buffer.allocUnsafe(head + bytes.length);
  putVarUint(out, 0, version);
  out.set(bytes, head);
  return out;
}

/** The version id of a stored value and where its bytes start. */
export function versionOf(value: Uint8Array): { version: number; start: number } {
  if (value[0] < 0x80) return { version: value[0], start: 1 };
  const input = new DataInput(value);
  const version = input.readVarUint();
  return { version, start: input.offset };
}

/** Strings as map keys: one char per byte. */
type Latin1 = { latin1Slice(start: number, end: number): string };

export function latin1(bytes: Uint8Array, end = bytes.byteLength): string {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (buffer as unknown as Latin1).latin1Slice(0, end);
}

export function fromLatin1(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}
