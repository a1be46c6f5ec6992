/**
 * Avro schema resolution (specification, "Schema Resolution"), reader = the new schema, writer =
 * the previous one, walked to name every place that changed or fails. avsc's resolver decides
 * whether the old data can be read; this walk explains where and why, and marks lossy promotions.
 */
import { Verdict, type SchemaChange } from '@stateshift/core';
import type { AvroType } from './types.js';

type Walk = Verdict;

/** Numeric and string promotions the specification allows: writer type to reader types. */
const PROMOTIONS: Record<string, string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};
/** Promotions that can round values: 32-bit ints beyond 2^24 in a float, longs beyond 2^53 in a double. */
const LOSSY = new Set(['int>float', 'long>float', 'long>double']);
/** Promotions that keep every value only if each one is valid: bytes must be UTF-8 to be a string. */
const CHECKED: Record<string, string> = { 'bytes>string': 'each stored value must be valid UTF-8; one that is not fails to read (DecodeError), never replaced' };

/** The avsc type name, with logical types read as their underlying type and abstract longs as long. */
function kindOf(type: AvroType): string {
  const name = (type as { typeName: string }).typeName;
  if (name.startsWith('logical:')) return kindOf((type as unknown as { underlyingType: AvroType }).underlyingType);
  if (name === 'abstract:long') return 'long';
  if (name.startsWith('union')) return 'union';
  if (name === 'error') return 'record';
  return name;
}

function unqualified(name: string | undefined): string {
  return (name ?? '').split('.').pop()!;
}

function label(type: AvroType): string {
  const kind = kindOf(type);
  const name = (type as { name?: string }).name;
  return name ? `${kind} ${unqualified(name)}` : kind;
}

function namesMatch(reader: AvroType, writer: AvroType): boolean {
  const r = reader as { name?: string; aliases?: string[] };
  const w = writer as { name?: string };
  const target = unqualified(w.name);
  return unqualified(r.name) === target || (r.aliases ?? []).some((a) => unqualified(a) === target);
}

function join(path: string, part: string): string {
  if (!path) return part;
  return part.startsWith('[') || part.startsWith('{') || part.startsWith('<') ? `${path}${part}` : `${path}.${part}`;
}

function explain(reader: AvroType, writer: AvroType, w: Walk = new Verdict()): Walk {
  walk(reader, writer, '', w);
  return w;
}

/**
 * The union branch a (non-union) writer type is read into, or undefined if none can take it.
 * The specification says "the first schema in the reader's union that matches"; the Java reference
 * resolver (Resolver.ReaderUnion.firstMatchingBranch) looks for the same type first and only then
 * for a promotion. Here, keeping every value decides: among the branches that resolve, a branch
 * whose resolution loses nothing comes before a lossy one (a long goes to "long", not "double"),
 * then the same type before a promotion, then the same full name, then the reader's order.
 */
export function chooseBranch(branches: readonly AvroType[], writer: AvroType, within?: Walk): number | undefined {
  let best: number | undefined;
  let bestScore = Infinity;
  branches.forEach((branch, i) => {
    // A record pair already being walked (a recursive type) counts as resolvable, as in Java.
    const w = explain(branch, writer, within ? within.fork() : new Verdict());
    if (w.problems.length) return;
    const score = (w.changes.some((c) => c.lossy) ? 4 : 0) + (kindOf(branch) === kindOf(writer) ? 0 : 2) + ((branch as { name?: string }).name === (writer as { name?: string }).name ? 0 : 1);
    if (score < bestScore) {
      best = i;
      bestScore = score;
    }
  });
  return best;
}

function walk(reader: AvroType, writer: AvroType, path: string, w: Walk): void {
  const rk = kindOf(reader);
  const wk = kindOf(writer);
  if (wk === 'union') {
    const branches = (writer as unknown as { types: AvroType[] }).types;
    for (const branch of branches) walk(reader, branch, rk === 'union' ? path : join(path, `<${label(branch)}>`), w);
    return;
  }
  if (rk === 'union') {
    const branches = (reader as unknown as { types: AvroType[] }).types;
    const chosen = chooseBranch(branches, writer, w);
    if (chosen === undefined) {
      w.problems.push({ path, message: `a ${label(writer)} written before matches no branch of the union (${branches.map(label).join(', ')})` });
      return;
    }
    const branch = branches[chosen];
    if (kindOf(branch) !== wk) w.changes.push({ path, message: `${label(writer)} now read as the union branch ${label(branch)}` });
    walk(branch, writer, path, w);
    return;
  }
  compareLogical(reader, writer, path, w);
  if (rk !== wk) {
    if (PROMOTIONS[wk]?.includes(rk)) {
      const lossy = LOSSY.has(`${wk}>${rk}`);
      const checked = CHECKED[`${wk}>${rk}`];
      w.changes.push({ path, message: `promoted from ${wk} to ${rk}${lossy ? ' (large values lose precision)' : ''}${checked ? `: ${checked}` : ''}`, ...(lossy ? { lossy: true } : {}) });
    } else {
      w.problems.push({ path, message: `type changed from ${label(writer)} to ${label(reader)}, which Avro cannot resolve; give the state a \`migrate\` converter` });
    }
    return;
  }
  switch (rk) {
    case 'record':
      return walkRecord(reader, writer, path, w);
    case 'enum':
      return walkEnum(reader, writer, path, w);
    case 'fixed': {
      if (!namesMatch(reader, writer)) w.problems.push({ path, message: `fixed ${unqualified((writer as { name?: string }).name)} renamed to ${unqualified((reader as { name?: string }).name)} without an alias` });
      const rs = (reader as unknown as { size: number }).size;
      const ws = (writer as unknown as { size: number }).size;
      if (rs !== ws) w.problems.push({ path, message: `fixed size changed from ${ws} to ${rs}` });
      return;
    }
    case 'array':
      return walk((reader as unknown as { itemsType: AvroType }).itemsType, (writer as unknown as { itemsType: AvroType }).itemsType, join(path, '[]'), w);
    case 'map':
      return walk((reader as unknown as { valuesType: AvroType }).valuesType, (writer as unknown as { valuesType: AvroType }).valuesType, join(path, '{value}'), w);
    default:
      return;
  }
}

/** A logical type's name and parameters (a decimal's precision and scale), if the type has one. */
function logicalOf(type: AvroType): { name: string; params: Record<string, unknown> } | undefined {
  const name = (type as { typeName: string }).typeName;
  if (!name.startsWith('logical:')) return undefined;
  const schema = type.schema({ exportAttrs: true }) as Record<string, unknown>;
  const params = Object.fromEntries(Object.entries(schema).filter(([k]) => !['type', 'logicalType', 'name', 'namespace', 'aliases', 'doc', 'size'].includes(k)));
  return { name: name.slice('logical:'.length), params };
}

/**
 * Logical types give the stored values their meaning. The specification: decimals match only if
 * their scales and precisions match. A larger precision with the same scale still holds every
 * stored value, so it is allowed; another logical type, or other parameters, would read the same
 * numbers as different values: refused. A logical type added or removed keeps the values as they are.
 */
function compareLogical(reader: AvroType, writer: AvroType, path: string, w: Walk): void {
  const [r, wr] = [logicalOf(reader), logicalOf(writer)];
  if (!r && !wr) return;
  if (!r || !wr) {
    w.changes.push({ path, message: r ? `logical type ${r.name} added; stored values are read as they are` : `logical type ${wr!.name} removed; stored values are read as they are` });
    return;
  }
  if (r.name !== wr.name) {
    w.problems.push({ path, message: `logical type changed from ${wr.name} to ${r.name}: the stored values would mean something else; give the state a \`migrate\` converter` });
    return;
  }
  const keys = new Set([...Object.keys(r.params), ...Object.keys(wr.params)]);
  for (const key of keys) {
    const [now, before] = [r.params[key], wr.params[key]];
    if (now === before) continue;
    if (r.name === 'decimal' && key === 'precision' && typeof now === 'number' && typeof before === 'number' && now > before) {
      w.changes.push({ path, message: `decimal precision widened from ${before} to ${now}` });
      continue;
    }
    w.problems.push({ path, message: `${r.name} ${key} changed from ${String(before)} to ${String(now)}: the stored values would mean something else; give the state a \`migrate\` converter` });
  }
}

interface Field {
  name: string;
  aliases: string[];
  type: AvroType;
  defaultValue(): unknown;
}

function walkRecord(reader: AvroType, writer: AvroType, path: string, w: Walk): void {
  const rName = unqualified((reader as { name?: string }).name);
  const wName = unqualified((writer as { name?: string }).name);
  if (!namesMatch(reader, writer)) {
    w.problems.push({ path: path || rName, message: `record ${wName} renamed to ${rName}; add "aliases": ["${wName}"] to the new record if it is the same type` });
    return;
  }
  const key = `${(reader as { name?: string }).name}<${(writer as { name?: string }).name}`;
  if (!w.firstVisit(key)) return; // recursive types: checked once
  const base = path ? path : rName;
  if (rName !== wName) w.changes.push({ path: base, message: `record renamed from ${wName} (alias)` });
  const rFields = (reader as unknown as { fields: Field[] }).fields;
  const wFields = (writer as unknown as { fields: Field[] }).fields;
  const used = new Set<Field>();
  for (const rf of rFields) {
    const wf = wFields.find((f) => f.name === rf.name) ?? wFields.find((f) => rf.aliases.includes(f.name));
    const fieldPath = path ? join(path, rf.name) : `${rName}.${rf.name}`;
    if (!wf) {
      if (rf.defaultValue() === undefined) w.problems.push({ path: fieldPath, message: 'field added without a default; old records have no value for it: give it a "default"' });
      else w.changes.push({ path: fieldPath, message: 'field added; old records get its default' });
      continue;
    }
    used.add(wf);
    if (wf.name !== rf.name) w.changes.push({ path: fieldPath, message: `renamed from ${wf.name} (alias)` });
    walk(rf.type, wf.type, fieldPath, w);
  }
  for (const wf of wFields) if (!used.has(wf)) w.changes.push({ path: path ? join(path, wf.name) : `${rName}.${wf.name}`, message: 'field removed; stored values are skipped' });
}

function walkEnum(reader: AvroType, writer: AvroType, path: string, w: Walk): void {
  const rName = unqualified((reader as { name?: string }).name);
  const where = path || rName;
  if (!namesMatch(reader, writer)) {
    w.problems.push({ path: where, message: `enum ${unqualified((writer as { name?: string }).name)} renamed to ${rName} without an alias` });
    return;
  }
  const rSymbols = (reader as unknown as { symbols: string[] }).symbols;
  const wSymbols = (writer as unknown as { symbols: string[] }).symbols;
  const fallback = (reader as unknown as { default?: string }).default ?? (reader.schema() as { default?: string }).default;
  const missing = wSymbols.filter((s) => !rSymbols.includes(s));
  if (missing.length && fallback === undefined) {
    w.problems.push({ path: where, message: `enum ${rName} lost symbol${missing.length > 1 ? 's' : ''} ${missing.join(', ')} and has no default to read them as` });
  } else if (missing.length) {
    w.changes.push({ path: where, message: `symbols ${missing.join(', ')} removed; stored values read as the default ${fallback}`, lossy: true });
  }
  const added = rSymbols.filter((s) => !wSymbols.includes(s));
  if (added.length) w.changes.push({ path: where, message: `symbols ${added.join(', ')} added` });
}

/** Every change and problem resolving `writer` data with `reader`. */
export function explainResolution(reader: AvroType, writer: AvroType): { changes: SchemaChange[]; problems: SchemaChange[] } {
  const { changes, problems } = explain(reader, writer);
  return { changes, problems };
}
