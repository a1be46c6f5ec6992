/**
 * One state's rows in memory. A row holds a copy of the key (and namespace), its key group, and the
 * stored data: the value (value state), the elements (list), map-key id to [mapKey, value] (map).
 * With a TTL, values are the stored `{ value, timestamp }` wrappers.
 *
 * Rows are found by the key itself when the key is a primitive whose bytes are a function of its
 * value (string, int32, int64, boolean keys, no namespace): one Map lookup. Otherwise by the key's
 * bytes as a latin1 string.
 */
import { type OperatorDeclaration } from '@stateshift/core';

export interface Row {
  keyGroup: number;
  key: unknown;
  namespace: unknown;
  data: unknown;
}

export type MapData = Map<string, [unknown, unknown]>;

const PRIMITIVE_KEY_KINDS = new Set(['core.string', 'core.int32', 'core.int64', 'core.boolean']);

/** Whether rows of this operator can be found by the key itself. */
export function keysByValue(declaration: OperatorDeclaration): boolean {
  return !declaration.namespaceSerializer && PRIMITIVE_KEY_KINDS.has(declaration.keySerializer.kind);
}

export function bytesToId(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
