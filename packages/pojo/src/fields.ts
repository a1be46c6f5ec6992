/** Field declarations of a pojo, normalized. */
import type { Serializer } from '@stateshift/core';

export interface FieldSpec<T = unknown> {
  serializer: Serializer<T>;
  /** The value this field takes when a new version adds it and old values lack it. Default: the type's zero. */
  default?: T;
  /** Names this field had in earlier versions. */
  aliases?: string[];
}

export type FieldDeclaration<T = unknown> = Serializer<T> | FieldSpec<T>;

/** The value type of one field declaration. */
export type FieldValue<F> = F extends Serializer<infer T> ? T : F extends FieldSpec<infer T> ? T : never;

/** The object type a pojo with these fields reads and writes. */
export type PojoValue<F extends Record<string, FieldDeclaration>> = { [K in keyof F]: FieldValue<F[K]> };

export interface Field {
  name: string;
  serializer: Serializer<unknown>;
  aliases: string[];
  hasDefault: boolean;
  default?: unknown;
}

function isSerializer(value: unknown): value is Serializer<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Serializer<unknown>).serialize === 'function' && typeof (value as Serializer<unknown>).snapshot === 'function';
}

export function normalizeFields(typeName: string, fields: Record<string, FieldDeclaration>): Field[] {
  if (!fields || typeof fields !== 'object') throw new TypeError(`pojo "${typeName}" needs an object of fields`);
  const names = Object.keys(fields);
  if (!names.length) throw new TypeError(`pojo "${typeName}" needs at least one field`);
  return names.map((name) => {
    const declaration = fields[name];
    const spec: FieldSpec = isSerializer(declaration) ? { serializer: declaration } : (declaration as FieldSpec);
    if (!spec || !isSerializer(spec.serializer)) {
      throw new TypeError(`pojo "${typeName}" field "${name}" needs a serializer (e.g. string()) or { serializer, default?, aliases? }`);
    }
    return {
      name,
      serializer: spec.serializer,
      aliases: [...(spec.aliases ?? [])],
      hasDefault: 'default' in spec,
      default: spec.default,
    };
  });
}
