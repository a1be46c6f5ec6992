/**
 * @stateshift/core: bytes, the serializer / snapshot / compatibility contract, the snapshot
 * registry, built-in serializers, state descriptors, jobs, key groups and errors.
 *
 * @module @stateshift/core
 */
export { DataInput, DataOutput, MAX_DEPTH, putVarUint, utf8Length, varUintLength } from './bytes.js';
export { Verdict, fieldPath, describeValue, isRecordValue, prefixEncodeError } from './evolution.js';
export * from './errors.js';
export { adviceForRole, convertedBy, convertersAdvice } from './converter-advice.js';
export * from './contract.js';
export {
  registerSnapshotReader,
  snapshotReaderFor,
  registeredKinds,
  writeSnapshot,
  readSnapshot,
  snapshotToBytes,
  snapshotFromBytes,
  OpaqueSnapshot,
  isOpaqueSnapshot,
  type SnapshotReader,
} from './registry.js';
export { resolveSchemaCompatibility, type ResolveOptions } from './resolve.js';
export { string, boolean, int32, int64, float64, bytes, PrimitiveSerializer, PrimitiveSnapshot } from './builtins/primitives.js';
export { ttl, TtlSerializer, TtlSnapshot, ttlReader, TTL_KIND, type TtlValue } from './builtins/ttl.js';
export { CORE_PACKAGE, kindChanged } from './builtins/common.js';
export * from './key-groups.js';
export * from './state.js';
export * from './state-api.js';
export type { S3Options, S3Credentials, StorageOptions } from './storage-options.js';
export { enumeration, EnumSerializer, EnumSnapshot } from './builtins/enumeration.js';
export { list, ListSerializer } from './builtins/list.js';
export { map, MapSerializer } from './builtins/map.js';
export { tuple, TupleSerializer } from './builtins/tuple.js';
export { nullable, NullableSerializer } from './builtins/nullable.js';
export { CompositeSnapshot, type CompositeSpec } from './builtins/composite.js';
export { copierOf, hasCheapCopy, type Copier } from './copy.js';
export { madeByThisCopy } from './copies.js';
export { formatKey } from './format-key.js';
