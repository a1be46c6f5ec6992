/**
 * @stateshift/pojo: plain objects (or class instances) with declared fields, each field with any
 * stateshift serializer. Importing this module registers the `pojo` snapshot reader.
 *
 * @module @stateshift/pojo
 */
import type { Serializer } from '@stateshift/core';
import { normalizeFields, type FieldDeclaration, type PojoValue } from './fields.js';
import { PojoSerializer, type PojoOptions } from './serializer.js';

export { PojoSerializer, type PojoOptions } from './serializer.js';
export { PojoSnapshot, POJO_KIND, POJO_PACKAGE, type StoredField } from './snapshot.js';
export type { FieldDeclaration, FieldSpec, FieldValue, PojoValue } from './fields.js';

/**
 * A serializer of objects with the given fields.
 *
 * ```ts
 * const order = pojo('Order', { orderId: string(), userId: string(), createTs: int64(), note: { serializer: string(), default: '-' } });
 * ```
 */
export function pojo<const F extends Record<string, FieldDeclaration>>(name: string, fields: F, options?: PojoOptions): Serializer<PojoValue<F>>;
/** With an explicit value type (a class or interface of yours). */
export function pojo<T extends object>(name: string, fields: Record<string, FieldDeclaration>, options?: PojoOptions): Serializer<T>;
export function pojo(name: string, fields: Record<string, FieldDeclaration>, options: PojoOptions = {}): Serializer<object> {
  if (typeof name !== 'string' || !name) throw new TypeError('pojo() needs a type name');
  return new PojoSerializer<object>(name, normalizeFields(name, fields), options);
}
