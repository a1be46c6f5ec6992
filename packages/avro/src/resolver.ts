/**
 * Avro schema resolution as a reader compiled once per (reader, writer) pair: it reads data
 * written with the writer schema and returns values of the reader schema, in stateshift's value
 * model (specification, "Schema Resolution"). avsc's own resolver decides whether a pair resolves
 * at all (see snapshot.ts); this one only reads, by the rules of resolution.ts where a value could
 * change:
 * - a value read into a union takes the branch `chooseBranch` picks (one that loses nothing first,
 *   then the same type), so a long read into ["double", "long"] stays a long;
 * - bytes read as a string must be valid UTF-8: an invalid value fails to read, never replaced;
 * - a logical type without an implementation reads as its underlying type (resolution.ts judges
 *   whether the logical types agree).
 */
import { DecodeError, SchemaError, type DataInput, type Deserializer } from '@stateshift/core';
import { branchesOf, codecOf, fields, fromAvsc, itemsOf, kindOf, nameOf, readBlockCount, readCount, symbolsOf, unqualified, valuesOf, type Field } from './codec.js';
import { chooseBranch } from './resolution.js';
import { valueType, type AvroType } from './types.js';

type Read = (input: DataInput) => unknown;

/** Promotions the specification allows, as readers of the writer's encoding. */
const PROMOTE: Record<string, Record<string, Read>> = {
  int: {
    long: (input) => BigInt(input.readVarInt()),
    float: (input) => input.readVarInt(),
    double: (input) => input.readVarInt(),
  },
  long: {
    float: (input) => Number(input.readVarInt64()),
    double: (input) => Number(input.readVarInt64()),
  },
  float: { double: (input) => input.readFloat32LE() },
  string: { bytes: (input) => input.readCopy(readCount(input, 1, 'string length')) },
  bytes: { string: readBytesAsString },
};

function readBytesAsString(input: DataInput): string {
  const n = readCount(input, 1, 'bytes length');
  const at = input.offset;
  try {
    return input.readUtf8(n);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    throw new DecodeError('bytes written before are not valid UTF-8, so they cannot be read as a string; give the state a `migrate` converter that decides what to keep', at, { cause: error });
  }
}

class Compiler {
  private readonly done = new Map<AvroType, Map<AvroType, { read: Read }>>();

  reader(reader: AvroType, writer: AvroType): { read: Read } {
    let byWriter = this.done.get(reader);
    if (!byWriter) this.done.set(reader, (byWriter = new Map()));
    let slot = byWriter.get(writer);
    if (slot) return slot;
    // Placed before compiling, so recursive types find it.
    slot = { read: () => undefined };
    byWriter.set(writer, slot);
    slot.read = this.compile(reader, writer);
    return slot;
  }

  private compile(declared: AvroType, stored: AvroType): Read {
    const reader = valueType(declared);
    const writer = valueType(stored);
    const rk = kindOf(reader);
    const wk = kindOf(writer);
    if (wk === 'union') {
      const branches = branchesOf(writer).map((b) => this.tryReader(reader, b));
      return (input) => {
        const at = input.offset;
        const i = input.readVarInt();
        const branch = branches[i];
        if (!branch) throw new DecodeError(`union has no branch ${i} that the new schema can read`, at);
        return branch.read(input);
      };
    }
    if (rk === 'union') {
      const branches = branchesOf(reader);
      // The stored type as declared: its logical type takes part in the choice.
      const chosen = chooseBranch(branches, stored);
      if (chosen === undefined) throw new SchemaError(`no branch of the union reads a ${wk}`);
      const slot = this.reader(branches[chosen], stored);
      return (input) => slot.read(input);
    }
    if (rk !== wk) {
      const promote = PROMOTE[wk]?.[rk];
      if (!promote) throw new SchemaError(`${wk} cannot be read as ${rk}`);
      return promote;
    }
    switch (rk) {
      case 'record':
        return this.record(reader, writer);
      case 'enum':
        return this.enumeration(reader, writer);
      case 'array': {
        const item = this.reader(itemsOf(reader), itemsOf(writer));
        const min = codecOf(itemsOf(writer)).minBytes;
        return (input) => {
          input.enter();
          const items: unknown[] = [];
          for (let n = readBlockCount(input, min, 'array block'); n; n = readBlockCount(input, min, 'array block')) {
            for (let i = 0; i < n; i++) items.push(item.read(input));
          }
          input.leave();
          return items;
        };
      }
      case 'map': {
        const value = this.reader(valuesOf(reader), valuesOf(writer));
        const min = 1 + codecOf(valuesOf(writer)).minBytes;
        return (input) => {
          input.enter();
          const map = new Map<string, unknown>();
          for (let n = readBlockCount(input, min, 'map block'); n; n = readBlockCount(input, min, 'map block')) {
            for (let i = 0; i < n; i++) {
              const k = input.readUtf8(readCount(input, 0, 'string length'));
              map.set(k, value.read(input));
            }
          }
          input.leave();
          return map;
        };
      }
      default: {
        const codec = codecOf(writer);
        return (input) => codec.read(input);
      }
    }
  }

  private tryReader(reader: AvroType, writer: AvroType): { read: Read } | undefined {
    try {
      return this.reader(reader, writer);
    } catch (error) {
      if (error instanceof SchemaError) return undefined;
      throw error;
    }
  }

  private record(reader: AvroType, writer: AvroType): Read {
    const rFields = fields(reader);
    const wFields = fields(writer);
    const used = new Set<Field>();
    // Per writer field, in stored order: where its value goes in the reader's field list, and how to read it.
    const steps = wFields.map((wf) => {
      const target = rFields.findIndex((rf) => rf.name === wf.name);
      const at = target >= 0 ? target : rFields.findIndex((rf) => rf.aliases.includes(wf.name));
      if (at < 0 || used.has(rFields[at])) {
        const skip = codecOf(wf.type);
        return { at: -1, read: (input: DataInput) => skip.read(input) };
      }
      used.add(rFields[at]);
      const slot = this.reader(rFields[at].type, wf.type);
      return { at, read: (input: DataInput) => slot.read(input) };
    });
    // Reader fields the writer lacks take their defaults (copied per value: lists and maps are mutable).
    const defaults = rFields.flatMap((rf, at) => {
      if (used.has(rf)) return [];
      const value = rf.defaultValue();
      if (value === undefined) throw new SchemaError(`field ${rf.name} has no default`);
      const converted = fromAvsc(rf.type, value);
      return [{ at, make: typeof converted === 'object' && converted !== null ? () => structuredClone(converted) : () => converted }];
    });
    const names = rFields.map((f) => f.name);
    return (input) => {
      input.enter();
      const values = new Array<unknown>(names.length);
      for (const step of steps) {
        const v = step.read(input);
        if (step.at >= 0) values[step.at] = v;
      }
      for (const d of defaults) values[d.at] = d.make();
      const out: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) out[names[i]] = values[i];
      input.leave();
      return out;
    };
  }

  private enumeration(reader: AvroType, writer: AvroType): Read {
    const rSymbols = new Set(symbolsOf(reader));
    const wSymbols = symbolsOf(writer);
    const fallback = (reader as unknown as { default?: string }).default ?? (reader.schema() as { default?: string }).default;
    const map = wSymbols.map((s) => (rSymbols.has(s) ? s : fallback));
    return (input) => {
      const at = input.offset;
      const i = input.readVarInt();
      if (!(i >= 0 && i < wSymbols.length)) throw new DecodeError(`enum ${unqualified(nameOf(writer))} has no symbol at index ${i}`, at);
      const symbol = map[i];
      if (symbol === undefined) throw new DecodeError(`stored symbol ${wSymbols[i]} is not in enum ${unqualified(nameOf(reader))}, which has no default`, at);
      return symbol;
    };
  }
}

/** A reader of data written with `writer`, as values of `reader`. */
export function resolvingReader<T>(reader: AvroType, writer: AvroType): Deserializer<T> {
  const slot = new Compiler().reader(reader, writer);
  return { deserialize: (input) => slot.read(input) as T };
}
