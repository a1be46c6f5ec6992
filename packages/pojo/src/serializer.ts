/**
 * The pojo serializer: the fields one after another, each with its own serializer, in the order
 * the snapshot records. No field names are written; the snapshot holds them.
 */
import { copierOf, describeValue, EncodeError, isRecordValue, joinPath, SchemaError, type Copier, type DataInput, type DataOutput, type Deserializer, type Serializer } from '@stateshift/core';
import type { Field } from './fields.js';
import { PojoSnapshot, POJO_KIND } from './snapshot.js';

export interface PojoOptions {
  /** Values are created as instances of this class (`Object.create(prototype)`, no constructor call). */
  class?: abstract new (...args: never[]) => unknown;
  /** Names this type had in earlier versions. */
  aliases?: string[];
}

/** Builds values: a plain object, or an object with the class's prototype. */
export function makeValue(prototype: object | null): () => Record<string, unknown> {
  return prototype ? () => Object.create(prototype) as Record<string, unknown> : () => ({});
}

/** Reads fields in stored order with the given readers; `names[i]` is where value i goes (undefined: skipped). */
export function fieldReader<T>(
  readers: Deserializer<unknown>[],
  names: (string | undefined)[],
  create: () => Record<string, unknown>,
  fill: [string, () => unknown][],
): Deserializer<T> {
  return {
    deserialize(input: DataInput): T {
      input.enter();
      const value = create();
      for (let i = 0; i < readers.length; i++) {
        const v = readers[i].deserialize(input);
        const name = names[i];
        if (name !== undefined) value[name] = v;
      }
      for (const [name, make] of fill) value[name] = make();
      input.leave();
      return value as T;
    },
  };
}

export class PojoSerializer<T extends object> implements Serializer<T> {
  readonly kind = POJO_KIND;
  private readonly reader: Deserializer<T>;
  private readonly copiers: Copier[];
  private readonly create: () => Record<string, unknown>;

  constructor(
    readonly name: string,
    readonly fields: Field[],
    readonly options: PojoOptions = {},
  ) {
    this.reader = fieldReader(
      fields.map((f) => f.serializer),
      fields.map((f) => f.name),
      makeValue(options.class?.prototype ?? null),
      [],
    );
    this.create = makeValue(options.class?.prototype ?? null);
    this.copiers = fields.map((f) => copierOf(f.serializer));
  }

  /** A copy with the declared fields only, as a round trip would give. */
  copy(value: T): T {
    const record = value as Record<string, unknown>;
    const out = this.create();
    for (let i = 0; i < this.fields.length; i++) out[this.fields[i].name] = this.copiers[i](record[this.fields[i].name]);
    return out as T;
  }

  serialize(value: T, out: DataOutput): void {
    if (!isRecordValue(value)) throw new EncodeError(`expected an object with the fields of ${this.name}, got ${describeValue(value)}`, this.name);
    const record = value as Record<string, unknown>;
    for (const field of this.fields) {
      try {
        field.serializer.serialize(record[field.name], out);
      } catch (error) {
        if (!(error instanceof EncodeError)) throw error;
        const message = error.path ? error.message.slice(error.path.length + 2) : error.message;
        const where = joinPath(`${this.name}.${field.name}`, error.path);
        throw new EncodeError(record[field.name] === undefined ? `field is missing (${message})` : message, where, { cause: error });
      }
    }
  }

  deserialize(input: DataInput): T {
    return this.reader.deserialize(input);
  }

  snapshot(): PojoSnapshot<T> {
    return new PojoSnapshot<T>(this.name, this.options.aliases ?? [], this.fields, this.options);
  }

  zero(): T {
    const value = makeValue(this.options.class?.prototype ?? null)();
    for (const f of this.fields) value[f.name] = fieldDefault(this.name, f);
    return value as T;
  }
}

/** The declared default of a field, else its type's zero; a field with neither cannot be added. */
export function fieldDefault(typeName: string, field: Field): unknown {
  if (field.hasDefault) return structuredCloneSafe(field.default);
  if (field.serializer.zero) return field.serializer.zero();
  throw new SchemaError(`${typeName}.${field.name} has no default and its type (${field.serializer.kind}) has no zero value; declare { serializer, default }`);
}

/** Defaults are copied per value, so one value's list is never another's. */
function structuredCloneSafe(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value;
}
