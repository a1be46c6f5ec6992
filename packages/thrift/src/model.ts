/** A Thrift IDL parsed into the types the codec walks: structs, unions, enums, typedefs resolved. */
import { parse } from '@creditkarma/thrift-parser';
import { EncodeError, SchemaError } from '@stateshift/core';

export type ThriftType =
  | { kind: 'bool' | 'i8' | 'i16' | 'i32' | 'i64' | 'double' | 'string' | 'binary' }
  | { kind: 'enum'; name: string }
  | { kind: 'list' | 'set'; elem: ThriftType }
  | { kind: 'map'; key: ThriftType; value: ThriftType }
  | { kind: 'struct'; name: string };

export interface ThriftField {
  id: number;
  name: string;
  type: ThriftType;
  requiredness: 'required' | 'optional' | 'default';
  /** The default value, as a stateshift value. */
  default?: unknown;
}

export interface ThriftStruct {
  name: string;
  union: boolean;
  fields: ThriftField[];
  byId: Map<number, ThriftField>;
  /**
   * Throws an `EncodeError` for an own key of a value (its value not undefined) that the struct does
   * not declare: written, it would be lost.
   */
  refuseUndeclared(value: Record<string, unknown>): void;
}

export interface ThriftModel {
  structs: Map<string, ThriftStruct>;
  enums: Map<string, Map<string, number>>;
}

type Node = { type: string; [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

const KEYWORDS: Record<string, ThriftType['kind']> = {
  BoolKeyword: 'bool',
  ByteKeyword: 'i8',
  I8Keyword: 'i8',
  I16Keyword: 'i16',
  I32Keyword: 'i32',
  I64Keyword: 'i64',
  DoubleKeyword: 'double',
  StringKeyword: 'string',
  BinaryKeyword: 'binary',
};

export function parseIdl(idl: string): ThriftModel {
  const doc = parse(idl) as Node;
  if (doc.type !== 'ThriftDocument') {
    const errors = (doc.errors as { message: string; loc?: { start: { line: number } } }[]) ?? [];
    throw new SchemaError(`invalid Thrift IDL: ${errors.map((e) => `${e.message}${e.loc ? ` (line ${e.loc.start.line})` : ''}`).join('; ')}`);
  }
  const body = doc.body as Node[];
  const typedefs = new Map<string, Node>();
  const enums = new Map<string, Map<string, number>>();
  const consts = new Map<string, Node>();
  for (const def of body) {
    if (def.type === 'TypedefDefinition') typedefs.set(def.name.value, def.definitionType);
    if (def.type === 'ConstDefinition') consts.set(def.name.value, def.initializer);
    if (def.type === 'EnumDefinition') {
      const values = new Map<string, number>();
      let next = 0;
      for (const m of def.members as Node[]) {
        const v = m.initializer ? Number(m.initializer.value.value) : next;
        values.set(m.name.value, v);
        next = v + 1;
      }
      enums.set(def.name.value, values);
    }
  }
  const structNames = new Set(body.filter((d) => ['StructDefinition', 'UnionDefinition', 'ExceptionDefinition'].includes(d.type)).map((d) => d.name.value as string));
  const resolveType = (t: Node, seen = new Set<string>()): ThriftType => {
    if (KEYWORDS[t.type]) return { kind: KEYWORDS[t.type] } as ThriftType;
    if (t.type === 'ListType' || t.type === 'SetType') return { kind: t.type === 'ListType' ? 'list' : 'set', elem: resolveType(t.valueType, seen) };
    if (t.type === 'MapType') return { kind: 'map', key: resolveType(t.keyType, seen), value: resolveType(t.valueType, seen) };
    if (t.type === 'Identifier') {
      const name = t.value as string;
      if (typedefs.has(name)) {
        if (seen.has(name)) throw new SchemaError(`typedef ${name} refers to itself`);
        return resolveType(typedefs.get(name)!, new Set([...seen, name]));
      }
      if (enums.has(name)) return { kind: 'enum', name };
      if (structNames.has(name)) return { kind: 'struct', name };
      throw new SchemaError(`unknown Thrift type ${name}${name.includes('.') ? ' (includes across IDL files are not supported)' : ''}`);
    }
    throw new SchemaError(`unsupported Thrift type ${t.type}`);
  };
  const constValue = (c: Node, type: ThriftType): unknown => {
    switch (c.type) {
      case 'IntConstant': {
        const n = BigInt(c.value.value);
        if (type.kind === 'enum') {
          const name = [...enums.get(type.name)!].find(([, v]) => BigInt(v) === n)?.[0];
          if (name === undefined) throw new SchemaError(`${n} is not a value of enum ${type.name}`);
          return name;
        }
        return type.kind === 'i64' ? n : type.kind === 'double' ? Number(n) : type.kind === 'bool' ? n !== 0n : Number(n);
      }
      case 'DoubleConstant':
        return Number(c.value.value);
      case 'StringLiteral':
        return type.kind === 'binary' ? new TextEncoder().encode(c.value) : c.value;
      case 'BooleanLiteral':
        return c.value;
      case 'ConstList': {
        const elem = (type as { elem: ThriftType }).elem;
        const list = (c.elements as Node[]).map((e) => constValue(e, elem));
        return type.kind === 'set' ? new Set(list) : list;
      }
      case 'ConstMap': {
        const t = type as { key: ThriftType; value: ThriftType };
        if (type.kind === 'struct') return Object.fromEntries((c.properties as Node[]).map((p) => [constValue(p.name, { kind: 'string' }), constValue(p.initializer, fieldOf(type.name, String(constValue(p.name, { kind: 'string' }))))]));
        return new Map((c.properties as Node[]).map((p) => [constValue(p.name, t.key), constValue(p.initializer, t.value)]));
      }
      case 'Identifier': {
        const [enumName, member] = String(c.value).split('.');
        // Enum values are their names in stateshift's value model; an i32 field takes the number.
        if (member !== undefined && enums.get(enumName)?.has(member)) return type.kind === 'enum' ? member : enums.get(enumName)!.get(member);
        if (consts.has(c.value)) return constValue(consts.get(c.value)!, type);
        throw new SchemaError(`unknown constant ${c.value}`);
      }
      default:
        throw new SchemaError(`unsupported constant ${c.type}`);
    }
  };
  const structs = new Map<string, ThriftStruct>();
  const fieldOf = (struct: string, name: string): ThriftType => {
    const def = body.find((d) => d.name?.value === struct)!;
    const f = (def.fields as Node[]).find((x) => x.name.value === name);
    if (!f) throw new SchemaError(`struct ${struct} has no field ${name}`);
    return resolveType(f.fieldType);
  };
  for (const def of body) {
    if (!structNames.has(def.name?.value) || !['StructDefinition', 'UnionDefinition', 'ExceptionDefinition'].includes(def.type)) continue;
    const fields = (def.fields as Node[]).map((f) => {
      if (!f.fieldID) throw new SchemaError(`field ${def.name.value}.${f.name.value} has no id; give every field an id`);
      const type = resolveType(f.fieldType);
      return {
        id: f.fieldID.value as number,
        name: f.name.value as string,
        type,
        requiredness: (f.requiredness ?? 'default') as ThriftField['requiredness'],
        ...(f.defaultValue ? { default: constValue(f.defaultValue, type) } : {}),
      };
    });
    const struct = { name: def.name.value, union: def.type === 'UnionDefinition', fields, byId: new Map(fields.map((f) => [f.id, f])) };
    structs.set(struct.name, { ...struct, refuseUndeclared: undeclaredCheck(struct) });
  }
  return { structs, enums };
}

/**
 * A for-in with a switch on the declared names (no lookups per key, the cheapest check there is);
 * inherited keys are looked at only on the rare undeclared path.
 */
function undeclaredCheck(struct: Omit<ThriftStruct, 'refuseUndeclared'>): ThriftStruct['refuseUndeclared'] {
  const refuse = (v: Record<string, unknown>, k: string): void => {
    if (!Object.hasOwn(v, k)) return;
    throw new EncodeError(
      `${struct.union ? 'union' : 'struct'} ${struct.name} has no field "${k}"; its fields are ${struct.fields.map((f) => f.name).join(', ')}. Declare "${k}" in the IDL or remove it from the value before update`,
      k,
    );
  };
  const declared = struct.fields.length ? `${struct.fields.map((f) => `case ${JSON.stringify(f.name)}:`).join(' ')} break;` : ''; // a struct may have no fields
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('refuse', `return function refuseUndeclared(v) {\nfor (const k in v) switch (k) { ${declared} default: if (v[k] !== undefined) refuse(v, k); }\n}`)(refuse) as ThriftStruct['refuseUndeclared'];
}

export function structOf(model: ThriftModel, name: string): ThriftStruct {
  const struct = model.structs.get(name);
  if (!struct) throw new SchemaError(`no struct or union "${name}" in the Thrift IDL; it has ${[...model.structs.keys()].join(', ') || 'none'}`);
  return struct;
}

export function typeName(t: ThriftType): string {
  switch (t.kind) {
    case 'list':
    case 'set':
      return `${t.kind}<${typeName(t.elem)}>`;
    case 'map':
      return `map<${typeName(t.key)},${typeName(t.value)}>`;
    case 'enum':
    case 'struct':
      return t.name;
    default:
      return t.kind;
  }
}
