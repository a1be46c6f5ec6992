/**
 * Named types match by unqualified name (Avro specification, schema resolution), but avsc matches
 * full names or aliases only. Before resolving, the reader schema gets, for every named type, an
 * alias for each writer type with the same unqualified name in another namespace.
 */
import { parseSchema, type AvroOptions, type AvroType } from './types.js';

type Json = { [key: string]: unknown };
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

function fullName(name: string, namespace: string | undefined): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

function visitNamed(schema: unknown, namespace: string | undefined, visit: (node: Json, full: string) => void): void {
  if (Array.isArray(schema)) return schema.forEach((s) => visitNamed(s, namespace, visit));
  if (!schema || typeof schema !== 'object') return;
  const node = schema as Json;
  let ns = namespace;
  if (NAMED.has(node.type as string) && typeof node.name === 'string') {
    const full = fullName(node.name, (node.namespace as string | undefined) ?? namespace);
    ns = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : undefined;
    visit(node, full);
  }
  for (const field of (node.fields as Json[] | undefined) ?? []) visitNamed(field.type, ns, visit);
  if (node.items !== undefined) visitNamed(node.items, ns, visit);
  if (node.values !== undefined) visitNamed(node.values, ns, visit);
  if (typeof node.type === 'object') visitNamed(node.type, ns, visit);
}

const unqualified = (name: string) => name.slice(name.lastIndexOf('.') + 1);

/** The reader type, with aliases for writer names that differ only by namespace (itself if none). */
export function withWriterAliases(reader: AvroType, writer: AvroType, options: AvroOptions): AvroType {
  const writerNames: string[] = [];
  visitNamed(writer.schema(), undefined, (_node, full) => writerNames.push(full));
  const schema = reader.schema({ exportAttrs: true }) as unknown;
  let added = false;
  visitNamed(schema, undefined, (node, full) => {
    const extra = writerNames.filter((w) => w !== full && unqualified(w) === unqualified(full));
    if (!extra.length) return;
    // A dotless alias would be qualified with the reader's namespace; a leading dot keeps it global.
    node.aliases = [...((node.aliases as string[] | undefined) ?? []), ...extra.map((w) => (w.includes('.') ? w : `.${w}`))];
    added = true;
  });
  return added ? parseSchema(schema as never, options) : reader;
}
