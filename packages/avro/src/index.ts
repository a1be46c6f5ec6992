/**
 * @stateshift/avro: state serialized as Avro datums by schema, evolving by Avro schema resolution.
 * Importing this module registers the `avro` snapshot reader.
 *
 * @module @stateshift/avro
 */
import type { Serializer } from '@stateshift/core';
import { AvroSerializer } from './serializer.js';
import { parseSchema, type AvroOptions, type AvroSchema } from './types.js';

export { AvroSerializer } from './serializer.js';
export { AvroSnapshot, AVRO_KIND, AVRO_PACKAGE } from './snapshot.js';
export { explainResolution } from './resolution.js';
export type { AvroOptions, AvroSchema, AvroType } from './types.js';

/**
 * A serializer of values of an Avro schema (object or JSON text). Longs are bigint.
 *
 * ```ts
 * const order = avro({ type: 'record', name: 'Order', fields: [{ name: 'orderId', type: 'string' }] });
 * ```
 */
export function avro<T = unknown>(schema: AvroSchema | string, options: AvroOptions = {}): Serializer<T> {
  return new AvroSerializer<T>(parseSchema(schema, options), options);
}
