/**
 * The contract every format adapter implements: a serializer, the snapshot of its schema that is
 * stored with the data, and the compatibility verdict a new snapshot gives on a previous one.
 */
import type { DataInput, DataOutput } from './bytes.js';

/** Anything that reads a value from bytes. */
export interface Deserializer<T> {
  deserialize(input: DataInput): T;
}

export interface Serializer<T> extends Deserializer<T> {
  /** The kind of snapshot this serializer produces, e.g. "avro" or "core.string". */
  readonly kind: string;
  /** Writes `value` self-delimited: a reader knows where it ends without an outer length. */
  serialize(value: T, out: DataOutput): void;
  /** The schema and configuration needed to read what this serializer wrote, later and elsewhere. */
  snapshot(): SerializerSnapshot<T>;
  /**
   * The value a field of this type takes when a new schema adds it without a declared default
   * (0, 0n, false, '', an empty list or map, null for nullable). Absent when the type has none.
   */
  zero?(): T;
  /**
   * A copy of a value this serializer has just written, sharing nothing mutable with it and equal to
   * what a round trip through the bytes gives. Optional: backends fall back to that round trip.
   */
  copy?(value: T): T;
}

/** A JSON-friendly description of a schema, for inspect, dump and dry-run reports. */
export type SchemaDescription = { type: string } & { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface SerializerSnapshot<T = unknown> {
  /** Registry key. */
  readonly kind: string;
  /** Version of this snapshot's own payload layout. */
  readonly version: number;
  /** The npm package whose import registers the reader of this kind, e.g. "@stateshift/avro". */
  readonly packageName: string;
  /** Writes the payload only; `writeSnapshot` frames it. */
  write(out: DataOutput): void;
  /** A serializer that reads (and writes) exactly what the snapshotted serializer wrote. */
  restoreSerializer(): Serializer<T>;
  /**
   * Called on the NEW snapshot with the previous one. Use `resolveSchemaCompatibility(next, previous)`
   * rather than calling this directly: it also handles unknown kinds and TTL wrapping.
   */
  resolveCompatibility(previous: SerializerSnapshot<unknown>): Compatibility<T>;
  describe(): SchemaDescription;
}

/** One difference between two schemas. `path` names the place, e.g. "Order.orderId" or "[]" for list elements. */
export interface SchemaChange {
  path: string;
  message: string;
  /** The change can cut or round values (int64 to float64, protobuf int64 to int32). */
  lossy?: boolean;
}

export interface CompatibleAsIs {
  type: 'compatibleAsIs';
  changes?: SchemaChange[];
}

export interface CompatibleAfterMigration<T> {
  type: 'compatibleAfterMigration';
  changes: SchemaChange[];
  /** Reads bytes written under the previous snapshot and returns values shaped as the new type. */
  readPrevious: Deserializer<T>;
}

export interface CompatibleWithReconfiguredSerializer<T> {
  type: 'compatibleWithReconfiguredSerializer';
  changes: SchemaChange[];
  /** Reads the old bytes, and writes bytes it will read again. */
  serializer: Serializer<T>;
}

export interface Incompatible {
  type: 'incompatible';
  problems: SchemaChange[];
}

export type Compatibility<T> =
  | CompatibleAsIs
  | CompatibleAfterMigration<T>
  | CompatibleWithReconfiguredSerializer<T>
  | Incompatible;

export type CompatibilityType = Compatibility<unknown>['type'];

export function compatibleAsIs(changes: SchemaChange[] = []): CompatibleAsIs {
  return changes.length ? { type: 'compatibleAsIs', changes } : { type: 'compatibleAsIs' };
}

export function compatibleAfterMigration<T>(readPrevious: Deserializer<T>, changes: SchemaChange[] = []): CompatibleAfterMigration<T> {
  return { type: 'compatibleAfterMigration', changes, readPrevious };
}

export function compatibleWithReconfiguredSerializer<T>(
  serializer: Serializer<T>,
  changes: SchemaChange[] = [],
): CompatibleWithReconfiguredSerializer<T> {
  return { type: 'compatibleWithReconfiguredSerializer', changes, serializer };
}

export function incompatible(problems: SchemaChange[]): Incompatible {
  if (!problems.length) throw new TypeError('incompatible() needs at least one problem');
  return { type: 'incompatible', problems };
}

/** The changes a result reports: `problems` when incompatible, else `changes`. */
export function changesOf(result: Compatibility<unknown>): SchemaChange[] {
  return result.type === 'incompatible' ? result.problems : (result.changes ?? []);
}

/**
 * How to read bytes written under the previous snapshot as values of the new type, given the verdict
 * and the new serializer: as is, the new serializer; reconfigured, the carried one; after migration,
 * `readPrevious`. Throws on incompatible.
 */
export function readerFor<T>(result: Compatibility<T>, next: Serializer<T>): Deserializer<T> {
  switch (result.type) {
    case 'compatibleAsIs':
      return next;
    case 'compatibleWithReconfiguredSerializer':
      return result.serializer;
    case 'compatibleAfterMigration':
      return result.readPrevious;
    case 'incompatible':
      throw new TypeError('readerFor: an incompatible result has no reader');
  }
}

/**
 * The serializer to keep writing with after the verdict: the reconfigured one if any, else `next`.
 */
export function writerFor<T>(result: Compatibility<T>, next: Serializer<T>): Serializer<T> {
  return result.type === 'compatibleWithReconfiguredSerializer' ? result.serializer : next;
}

/** Prefixes every change's path, for composites reporting nested results ("Order" + ".orderId"). */
export function prefixChanges(prefix: string, changes: SchemaChange[]): SchemaChange[] {
  return changes.map((c) => ({ ...c, path: joinPath(prefix, c.path) }));
}

export function joinPath(prefix: string, path: string): string {
  if (!prefix) return path;
  if (!path) return prefix;
  return path.startsWith('[') || path.startsWith('{') ? `${prefix}${path}` : `${prefix}.${path}`;
}

/** Part of a composite verdict: a nested result and where it sits. */
export interface NestedResult {
  path: string;
  result: Compatibility<unknown>;
}

/**
 * Combines nested results by the composite rule: any incompatible makes incompatible (all problems
 * listed); else any migration makes migration; else any reconfiguration makes reconfiguration; else
 * as is. `build` makes the composite's migrating reader or reconfigured serializer from one nested
 * reader or serializer per part, in the order given.
 */
export function combineCompatibility<T>(
  parts: NestedResult[],
  build: {
    /** Readers of previous bytes per part (see readerFor) to the composite's migrating reader. */
    readPrevious(readers: Deserializer<unknown>[]): Deserializer<T>;
    /** Writers per part (see writerFor) to the composite's reconfigured serializer. */
    reconfigured(serializers: Serializer<unknown>[]): Serializer<T>;
    /** The new nested serializers, in the order of parts. */
    next: Serializer<unknown>[];
  },
  extraChanges: SchemaChange[] = [],
): Compatibility<T> {
  const problems = parts.flatMap((p) => (p.result.type === 'incompatible' ? prefixChanges(p.path, p.result.problems) : []));
  if (problems.length) return incompatible(problems);
  const changes = [...extraChanges, ...parts.flatMap((p) => prefixChanges(p.path, changesOf(p.result)))];
  const types = new Set(parts.map((p) => p.result.type));
  if (types.has('compatibleAfterMigration')) {
    return compatibleAfterMigration(build.readPrevious(parts.map((p, i) => readerFor(p.result, build.next[i]))), changes);
  }
  if (types.has('compatibleWithReconfiguredSerializer')) {
    return compatibleWithReconfiguredSerializer(build.reconfigured(parts.map((p, i) => writerFor(p.result, build.next[i]))), changes);
  }
  return compatibleAsIs(changes);
}
