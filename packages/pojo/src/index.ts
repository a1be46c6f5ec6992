/**
 * @stateshift/pojo: plain objects (or class instances) with declared fields, each field with any
 * stateshift serializer. Importing this module registers the `pojo` snapshot reader.
 *
 * @module @stateshift/pojo
 */
import type { Serializer } from '@stateshift/core';
import { normalizeFields, type FieldDeclaration } from './fields.js';
import { PojoSerializer, type PojoOptions } from './serializer.js';

export { PojoSerializer, type PojoOptions } from './serializer.js';
export { PojoSnapshot, POJO_KIND, POJO_PACKAGE, type StoredField } from './snapshot.js';
export type { FieldDeclaration, FieldSpec } from './fields.js';

/**
 * A serializer of objects with the given fields.
 *
 * ```ts
 * const order = pojo('Order', { orderId: string(), userId: string(), createTs: int64(), note: { serializer: string(), default: '-' } });
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function pojo<T extends object = any>(name: string, fields: Record<string, FieldDeclaration>, options: PojoOptions = {}): Serializer<T> {
  if (typeof name !== 'string' || !name) throw new TypeError('pojo() needs a type name');
  return new PojoSerializer<T>(name, normalizeFields(name, fields), options);
}
