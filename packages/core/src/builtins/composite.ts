/**
 * The shared shape of the structural built-ins (list, map, tuple, nullable): a snapshot made of
 * nested snapshots, resolved part by part with the composite rule (`combineCompatibility`).
 */
import type { DataInput, DataOutput } from '../bytes.js';
import {
  combineCompatibility,
  incompatible,
  type Compatibility,
  type Deserializer,
  type SchemaDescription,
  type Serializer,
  type SerializerSnapshot,
} from '../contract.js';
import { prefixEncodeError } from '../evolution.js';
import { readSnapshot, registerSnapshotReader, writeSnapshot } from '../registry.js';
import { resolveSchemaCompatibility } from '../resolve.js';
import { CORE_PACKAGE, kindChanged } from './common.js';
import { madeByThisCopy } from '../copies.js';

export interface CompositeSpec<T> {
  kind: string;
  /** The path problems in part `i` are reported under, e.g. "[]" for list elements. */
  path(i: number): string;
  /** A serializer over nested serializers. */
  make(parts: Serializer<unknown>[]): Serializer<T>;
  /** A reader over nested readers (for migrations: each part reads its previous bytes). */
  reader(parts: Deserializer<unknown>[]): Deserializer<T>;
  describe(parts: SchemaDescription[]): SchemaDescription;
  /** Extra verdicts for a previous snapshot of another kind (nullable accepts its inner type). */
  resolveOther?(next: CompositeSnapshot<T>, previous: SerializerSnapshot<unknown>): Compatibility<T> | undefined;
}

export class CompositeSnapshot<T> implements SerializerSnapshot<T> {
  readonly version = 1;
  readonly packageName = CORE_PACKAGE;
  readonly kind: string;

  constructor(
    readonly spec: CompositeSpec<T>,
    readonly parts: SerializerSnapshot<unknown>[],
  ) {
    this.kind = spec.kind;
  }

  write(out: DataOutput): void {
    out.writeVarUint(this.parts.length);
    for (const part of this.parts) writeSnapshot(out, part);
  }

  restoreSerializer(): Serializer<T> {
    return this.spec.make(this.parts.map((p) => p.restoreSerializer()));
  }

  resolveCompatibility(previous: SerializerSnapshot<unknown>): Compatibility<T> {
    if (!(previous instanceof CompositeSnapshot) || previous.kind !== this.kind) {
      return this.spec.resolveOther?.(this, previous) ?? kindChanged(previous, this);
    }
    if (previous.parts.length !== this.parts.length) {
      return incompatible([{ path: '', message: `arity changed from ${previous.parts.length} to ${this.parts.length} items; give the state a \`migrate\` converter` }]);
    }
    const nested = this.parts.map((part, i) => ({ path: this.spec.path(i), result: resolveSchemaCompatibility(part, previous.parts[i]) }));
    return combineCompatibility<T>(nested, {
      next: this.parts.map((p) => p.restoreSerializer()),
      readPrevious: (readers) => this.spec.reader(readers),
      reconfigured: (serializers) => this.spec.make(serializers),
    });
  }

  describe(): SchemaDescription {
    return this.spec.describe(this.parts.map((p) => p.describe()));
  }
}
madeByThisCopy(CompositeSnapshot);

/** Registers the reader of a composite kind: its payload is a count and the nested snapshots. */
export function registerComposite<T>(spec: CompositeSpec<T>): void {
  registerSnapshotReader({
    kind: spec.kind,
    packageName: CORE_PACKAGE,
    currentVersion: 1,
    read: (input: DataInput) => {
      const count = input.readLength(`the parts of a ${spec.kind} snapshot`);
      const parts: SerializerSnapshot<unknown>[] = [];
      for (let i = 0; i < count; i++) parts.push(readSnapshot(input));
      return new CompositeSnapshot(spec, parts);
    },
  });
}

/** Runs a nested write, naming the part that failed: "[3]: expected a string". */
export function writeNested(path: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    throw prefixEncodeError(error, path);
  }
}
