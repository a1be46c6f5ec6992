/**
 * The Avro snapshot: the full writer schema (defaults and aliases included) as JSON.
 *
 * Compatibility is Avro schema resolution with reader = the new schema and writer = the stored one:
 * the same Parsing Canonical Form is as is; data avsc can resolve is after migration (read through
 * avsc's resolver); anything else is incompatible, one problem per failing place.
 */
import {
  compatibleAfterMigration,
  compatibleAsIs,
  incompatible,
  kindChanged,
  madeByThisCopy,
  registerSnapshotReader,
  type Compatibility,
  type DataOutput,
  type SchemaDescription,
  type Serializer,
  type SerializerSnapshot,
} from '@stateshift/core';
import { withWriterAliases } from './names.js';
import { explainResolution } from './resolution.js';
import { AvroSerializer } from './serializer.js';
import { resolvingReader } from './resolver.js';
import { parseSchema, schemaText, type AvroOptions, type AvroType } from './types.js';

export const AVRO_KIND = 'avro';
export const AVRO_PACKAGE = '@stateshift/avro';

export class AvroSnapshot<T> implements SerializerSnapshot<T> {
  readonly kind = AVRO_KIND;
  readonly version = 1;
  readonly packageName = AVRO_PACKAGE;
  readonly schema: string;

  constructor(
    readonly type: AvroType,
    readonly options: AvroOptions = {},
  ) {
    this.schema = schemaText(type);
  }

  write(out: DataOutput): void {
    out.writeString(this.schema);
  }

  restoreSerializer(): Serializer<T> {
    return new AvroSerializer<T>(this.type, this.options);
  }

  resolveCompatibility(previous: SerializerSnapshot<unknown>): Compatibility<T> {
    if (!(previous instanceof AvroSnapshot)) return kindChanged(previous, this);
    const writer = previous.type;
    const { changes, problems } = explainResolution(this.type, writer);
    // The same Parsing Canonical Form reads as is, unless a logical type changed the values' meaning.
    if (this.type.fingerprint().equals(writer.fingerprint())) return problems.length ? incompatible(problems) : compatibleAsIs(changes);
    let readPrevious;
    try {
      // avsc's resolver decides whether the stored schema resolves; ours reads the data.
      const reader = withWriterAliases(this.type, writer, this.options);
      reader.createResolver(writer);
      readPrevious = resolvingReader<T>(reader, writer);
    } catch (error) {
      return incompatible(problems.length ? problems : [{ path: '', message: `Avro cannot resolve the stored schema: ${(error as Error).message}` }]);
    }
    return compatibleAfterMigration(readPrevious, changes.length ? changes : [{ path: '', message: 'schema changed; data is read through Avro schema resolution' }]);
  }

  describe(): SchemaDescription {
    return { type: 'avro', schema: JSON.parse(this.schema) };
  }
}

registerSnapshotReader({
  kind: AVRO_KIND,
  packageName: AVRO_PACKAGE,
  currentVersion: 1,
  read: (input) => new AvroSnapshot(parseSchema(input.readString())),
});

// Two copies of this package in one program are named by where each is installed.
madeByThisCopy(AvroSnapshot, new URL('..', import.meta.url));
