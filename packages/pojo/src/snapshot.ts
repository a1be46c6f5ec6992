/**
 * The pojo snapshot: type name, aliases, and per field its name, aliases and nested snapshot.
 *
 * Rules (reader = this, the new declaration; writer = the previous snapshot):
 * - type renamed: incompatible, unless the new declaration lists the old name among its aliases;
 * - field added: migration, the value is the declared default, else the type's zero (a field with
 *   neither is incompatible);
 * - field removed, or renamed with an alias: migration; two stored fields that an alias would read
 *   into one field: incompatible (one value would be lost);
 * - field type changed: the nested verdict, at path `Type.field`;
 * - field order changed only: a reconfigured serializer that keeps the stored order.
 */
import {
  changesOf,
  compatibleAfterMigration,
  compatibleAsIs,
  compatibleWithReconfiguredSerializer,
  incompatible,
  kindChanged,
  madeByThisCopy,
  prefixChanges,
  readerFor,
  readSnapshot,
  registerSnapshotReader,
  resolveSchemaCompatibility,
  writerFor,
  writeSnapshot,
  type Compatibility,
  type DataInput,
  type DataOutput,
  type SchemaChange,
  type SchemaDescription,
  type Serializer,
  type SerializerSnapshot,
} from '@stateshift/core';
import type { Field } from './fields.js';
import { fieldDefault, fieldReader, makeValue, PojoSerializer, type PojoOptions } from './serializer.js';

export const POJO_KIND = 'pojo';
export const POJO_PACKAGE = '@stateshift/pojo';

/** A field as the snapshot holds it. */
export interface StoredField {
  name: string;
  aliases: string[];
  snapshot: SerializerSnapshot<unknown>;
}

export class PojoSnapshot<T extends object> implements SerializerSnapshot<T> {
  readonly kind = POJO_KIND;
  readonly version = 1;
  readonly packageName = POJO_PACKAGE;
  readonly stored: StoredField[];

  /** `fields` carries serializers and defaults when the snapshot comes from a live declaration. */
  constructor(
    readonly name: string,
    readonly aliases: string[],
    readonly fields: Field[] | StoredField[],
    readonly options: PojoOptions = {},
  ) {
    this.stored = fields.map((f) =>
      'snapshot' in f ? f : { name: f.name, aliases: f.aliases, snapshot: f.serializer.snapshot() },
    );
  }

  write(out: DataOutput): void {
    out.writeString(this.name);
    writeStrings(out, this.aliases);
    out.writeVarUint(this.stored.length);
    for (const f of this.stored) {
      out.writeString(f.name);
      writeStrings(out, f.aliases);
      writeSnapshot(out, f.snapshot);
    }
  }

  /** The declared fields (with defaults) when known, else fields restored from the stored snapshots. */
  private liveFields(): Field[] {
    return this.stored.map((f, i) => {
      const declared = this.fields[i];
      if (declared && 'serializer' in declared) return declared;
      return { name: f.name, aliases: f.aliases, serializer: f.snapshot.restoreSerializer(), hasDefault: false };
    });
  }

  restoreSerializer(): Serializer<T> {
    return new PojoSerializer<T>(this.name, this.liveFields(), { ...this.options, aliases: this.aliases });
  }

  resolveCompatibility(previous: SerializerSnapshot<unknown>): Compatibility<T> {
    if (!(previous instanceof PojoSnapshot)) return kindChanged(previous, this);
    const changes: SchemaChange[] = [];
    if (previous.name !== this.name) {
      if (!this.aliases.includes(previous.name)) {
        return incompatible([
          {
            path: this.name,
            message: `type renamed from ${previous.name} to ${this.name}; if it is the same type, declare pojo('${this.name}', ..., { aliases: ['${previous.name}'] })`,
          },
        ]);
      }
      changes.push({ path: this.name, message: `type renamed from ${previous.name} (alias)` });
    }

    const next = this.liveFields();
    const problems: SchemaChange[] = [];
    // For each previous field (stored order): the next field it becomes, and the verdict.
    const matches = previous.stored.map((old) => {
      const field = next.find((f) => f.name === old.name) ?? next.find((f) => f.aliases.includes(old.name));
      if (!field) return undefined;
      const path = `${this.name}.${field.name}`;
      if (field.name !== old.name) changes.push({ path, message: `renamed from ${old.name} (alias)` });
      const result = resolveSchemaCompatibility(field.serializer.snapshot(), old.snapshot);
      if (result.type === 'incompatible') problems.push(...prefixChanges(path, result.problems));
      else changes.push(...prefixChanges(path, changesOf(result)));
      return { field, result };
    });
    previous.stored.forEach((old, i) => {
      if (!matches[i]) changes.push({ path: `${this.name}.${old.name}`, message: 'field removed; stored values are dropped' });
      // Two stored fields read into one (a name and an alias): one of the two values would be lost.
      const other = previous.stored.findIndex((_o, j) => j < i && matches[j] && matches[j]!.field === matches[i]?.field);
      if (other >= 0) {
        const field = matches[i]!.field.name;
        problems.push({ path: `${this.name}.${field}`, message: `stored fields ${previous.stored[other].name} and ${old.name} would both be read into ${field}, losing one of them; remove the alias, or keep both fields and combine them with a \`migrate\` converter` });
      }
    });
    const matched = new Set(matches.map((m) => m?.field));
    const added = next.filter((f) => !matched.has(f));
    for (const f of added) {
      const path = `${this.name}.${f.name}`;
      try {
        fieldDefault(this.name, f);
        changes.push({ path, message: `field added; old values get ${f.hasDefault ? 'the declared default' : "the type's zero value"}` });
      } catch (error) {
        problems.push({ path, message: (error as Error).message });
      }
    }
    if (problems.length) return incompatible(problems);

    const create = makeValue(this.options.class?.prototype ?? null);
    const migrates =
      added.length > 0 ||
      matches.some((m) => !m || m.result.type === 'compatibleAfterMigration') ||
      matches.some((m, i) => m && m.field.name !== previous.stored[i].name);
    if (migrates) {
      const readPrevious = fieldReader<T>(
        previous.stored.map((old, i) => {
          const m = matches[i];
          return m ? readerFor(m.result, m.field.serializer) : old.snapshot.restoreSerializer();
        }),
        matches.map((m) => m?.field.name),
        create,
        added.map((f) => [f.name, () => fieldDefault(this.name, f)]),
      );
      return compatibleAfterMigration(readPrevious, changes);
    }
    const reordered = matches.some((m, i) => m!.field !== next[i]);
    const reconfigured = matches.some((m) => m!.result.type === 'compatibleWithReconfiguredSerializer');
    if (reordered || reconfigured) {
      if (reordered) changes.push({ path: this.name, message: 'fields reordered; the stored order is kept' });
      const fields = matches.map((m) => ({ ...m!.field, serializer: writerFor(m!.result, m!.field.serializer) }));
      return compatibleWithReconfiguredSerializer(new PojoSerializer<T>(this.name, fields, { ...this.options, aliases: this.aliases }), changes);
    }
    return compatibleAsIs(changes);
  }

  describe(): SchemaDescription {
    return {
      type: 'pojo',
      name: this.name,
      ...(this.aliases.length ? { aliases: this.aliases } : {}),
      fields: this.stored.map((f) => ({ name: f.name, ...(f.aliases.length ? { aliases: f.aliases } : {}), type: f.snapshot.describe() })),
    };
  }
}

function writeStrings(out: DataOutput, strings: string[]): void {
  out.writeVarUint(strings.length);
  for (const s of strings) out.writeString(s);
}

function readStrings(input: DataInput, what: string): string[] {
  const n = input.readLength(what);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(input.readString());
  return out;
}

registerSnapshotReader({
  kind: POJO_KIND,
  packageName: POJO_PACKAGE,
  currentVersion: 1,
  read(input) {
    const name = input.readString();
    const aliases = readStrings(input, 'pojo aliases');
    const n = input.readLength('pojo fields');
    const fields: StoredField[] = [];
    for (let i = 0; i < n; i++) {
      const fieldName = input.readString();
      fields.push({ name: fieldName, aliases: readStrings(input, 'field aliases'), snapshot: readSnapshot(input) });
    }
    return new PojoSnapshot(name, aliases, fields);
  },
});

// Two copies of this package in one program are named by where each is installed.
madeByThisCopy(PojoSnapshot, new URL('..', import.meta.url));
