/**
 * The pojo serializer: the fields one after another, each with its own serializer, in the order
 * the snapshot records. No field names are written; the snapshot holds them.
 */
import { copierOf, describeValue, EncodeError, float64, int32, int64, isRecordValue, joinPath, SchemaError, string, type Copier, type DataInput, type DataOutput, type Deserializer, type Serializer } from '@stateshift/core';
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

/** Straight-line code per declaration: one object literal on read, one call per field on write. */
function compileFields<T>(
  typeName: string,
  fields: Field[],
): { read: Deserializer<T>['deserialize']; write: (value: Record<string, unknown>, out: DataOutput) => void } {
  const key = (name: string) => JSON.stringify(name);
  const S = fields.map((f) => f.serializer);
  // Core's string, int64 and float64 built-ins are inlined (their documented encodings); a value
  // that fails the inline check goes to the serializer itself, which refuses it with its message.
  const inline = (s: Serializer<unknown>): { read?: string; write: (x: string, i: number) => string } | undefined => {
    if (s === (string() as Serializer<unknown>)) return { read: 'input.readString()', write: (x, i) => `if (typeof ${x} === 'string') out.writeString(${x}); else S[${i}].serialize(${x}, out);` };
    if (s === (int64() as Serializer<unknown>)) {
      return { read: 'input.readVarInt64()', write: (x, i) => `if (typeof ${x} === 'bigint' && ${x} >= -9223372036854775808n && ${x} <= 9223372036854775807n) out.writeVarInt64(${x}); else S[${i}].serialize(${x}, out);` };
    }
    if (s === (int32() as Serializer<unknown>)) {
      // Reads keep the serializer's int32 range check.
      return { write: (x, i) => `if (typeof ${x} === 'number' && (${x} | 0) === ${x}) out.writeVarInt(${x}); else S[${i}].serialize(${x}, out);` };
    }
    if (s === (float64() as Serializer<unknown>)) return { read: 'input.readFloat64()', write: (x, i) => `if (typeof ${x} === 'number') out.writeFloat64(${x}); else S[${i}].serialize(${x}, out);` };
    return undefined;
  };
  const plans = S.map(inline);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const read = new Function('S', `return function read(input) {\ninput.enter();\nconst o = {${fields.map((f, i) => `${key(f.name)}: ${plans[i]?.read ?? `S[${i}].deserialize(input)`}`).join(', ')}};\ninput.leave();\nreturn o;\n}`)(S);
  // A field's error names Type.field, and says when the field is missing.
  const fail = (error: unknown, i: number, v: Record<string, unknown>): unknown => {
    if (!(error instanceof EncodeError)) return error;
    const name = fields[i].name;
    const message = error.path ? error.message.slice(error.path.length + 2) : error.message;
    return new EncodeError(v[name] === undefined ? `field is missing (${message})` : message, joinPath(`${typeName}.${name}`, error.path), { cause: error });
  };
  // An own key the pojo does not declare (its value not undefined) is refused, not dropped: a for-in
  // with a switch on the declared names costs no lookups; inherited keys are looked at only there.
  const unknown = (v: Record<string, unknown>, k: string): void => {
    if (!Object.hasOwn(v, k)) return;
    throw new EncodeError(
      `pojo ${typeName} has no field "${k}"; its fields are ${fields.map((f) => f.name).join(', ')}. Declare "${k}" in pojo('${typeName}', ...) or remove it from the value before update`,
      `${typeName}.${k}`,
    );
  };
  const check = `for (const k in v) switch (k) { ${fields.map((f) => `case ${key(f.name)}:`).join(' ')} break; default: if (v[k] !== undefined) unknown(v, k); }`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const write = new Function('S', 'fail', 'unknown', `return function write(v, out) {\n${check}\nlet i = 0, x;\ntry {\n${fields.map((f, i) => `i = ${i}; ${plans[i] ? `x = v[${key(f.name)}]; ${plans[i]!.write('x', i)}` : `S[${i}].serialize(v[${key(f.name)}], out);`}`).join('\n')}\n} catch (error) {\nthrow fail(error, i, v);\n}\n}`)(S, fail, unknown);
  return { read, write };
}

export class PojoSerializer<T extends object> implements Serializer<T> {
  readonly kind = POJO_KIND;
  private readonly reader: Deserializer<T>;
  private readonly writeFields: (value: Record<string, unknown>, out: DataOutput) => void;
  private readonly copiers: Copier[];
  private readonly create: () => Record<string, unknown>;

  constructor(
    readonly name: string,
    readonly fields: Field[],
    readonly options: PojoOptions = {},
  ) {
    const compiled = compileFields<T>(name, fields);
    this.writeFields = compiled.write;
    this.reader = options.class
      ? fieldReader(
          fields.map((f) => f.serializer),
          fields.map((f) => f.name),
          makeValue(options.class.prototype),
          [],
        )
      : { deserialize: compiled.read };
    this.create = makeValue(options.class?.prototype ?? null);
    this.copiers = fields.map((f) => copierOf(f.serializer));
  }

  /**
   * A copy with the declared fields only, as a round trip would give. Backends copy a value after
   * `serialize` took it, which refuses undeclared fields, so none is lost here.
   */
  copy(value: T): T {
    const record = value as Record<string, unknown>;
    const out = this.create();
    for (let i = 0; i < this.fields.length; i++) out[this.fields[i].name] = this.copiers[i](record[this.fields[i].name]);
    return out as T;
  }

  serialize(value: T, out: DataOutput): void {
    if (!isRecordValue(value)) throw new EncodeError(`expected an object with the fields of ${this.name}, got ${describeValue(value)}`, this.name);
    this.writeFields(value, out);
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
