/**
 * The one entry point for compatibility: `resolveSchemaCompatibility(next, previous)`. Everything that
 * decides a restore (backends, dry-runs, composites resolving nested snapshots) goes through it, so an
 * unknown kind (MissingAdapterError), serializers from two copies of a package (DuplicatePackageError),
 * or TTL turned on or off, is handled the same everywhere.
 */
import type { Compatibility, SerializerSnapshot } from './contract.js';
import { compatibleAfterMigration, incompatible, readerFor, prefixChanges } from './contract.js';
import { fromTwoCopies, installedAt } from './copies.js';
import { isOpaqueSnapshot } from './registry.js';
import { DuplicatePackageError, MissingAdapterError } from './errors.js';
import { TtlSnapshot, ttlReader, type TtlValue } from './builtins/ttl.js';

export interface ResolveOptions {
  /** The clock that stamps values when TTL is turned on (a backend's injected clock). Default `Date.now`. */
  now?: () => number;
}

export function resolveSchemaCompatibility<T>(next: SerializerSnapshot<T>, previous: SerializerSnapshot<unknown>, options: ResolveOptions = {}): Compatibility<T> {
  if (isOpaqueSnapshot(previous)) throw new MissingAdapterError(previous.kind, previous.packageName, 'check this state');
  if (fromTwoCopies(next, previous)) throw new DuplicatePackageError(next.kind, next.packageName, installedAt(next), installedAt(previous));
  const nextTtl = next instanceof TtlSnapshot;
  const previousTtl = previous instanceof TtlSnapshot;
  if (nextTtl && !previousTtl) {
    // TTL turned on: wrap each old value with the time of migration.
    const inner = (next as TtlSnapshot<unknown>).inner;
    const result = resolveSchemaCompatibility(inner, previous);
    if (result.type === 'incompatible') return result as Compatibility<T>;
    const read = readerFor(result, inner.restoreSerializer());
    const now = options.now ?? Date.now;
    return compatibleAfterMigration(
      { deserialize: (input) => ({ timestamp: now(), value: read.deserialize(input) }) as T },
      [{ path: '', message: 'TTL turned on: existing values get the time of migration as their timestamp' }, ...prefixChanges('', result.changes ?? [])],
    );
  }
  if (previousTtl && !nextTtl) {
    // TTL turned off: drop the timestamps (expired values are dropped by the backend before this).
    const result = resolveSchemaCompatibility(next, (previous as TtlSnapshot<unknown>).inner);
    if (result.type === 'incompatible') return result;
    const read = ttlReader(readerFor(result, next.restoreSerializer()));
    return compatibleAfterMigration(
      { deserialize: (input) => (read.deserialize(input) as TtlValue<T>).value },
      [{ path: '', message: 'TTL turned off: timestamps are dropped' }, ...(result.changes ?? [])],
    );
  }
  if (previous.kind === 'core.nullable' && next.kind !== 'core.nullable') {
    return incompatible([
      { path: '', message: 'nullable made non-nullable: stored nulls could not be read; keep it nullable or give the state a `migrate` converter that replaces null' },
    ]);
  }
  return next.resolveCompatibility(previous);
}
