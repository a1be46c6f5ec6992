/**
 * `enumeration(name, symbols)`: one of a fixed set of strings, written as its varint index.
 *
 * Rules: same name and symbols in the same order, as is; symbols appended or reordered, a
 * reconfigured serializer that keeps every old symbol at its old index and appends the new ones
 * (so old bytes read right and what it writes stays readable); a symbol removed or the enum
 * renamed, incompatible.
 */
import type { DataInput, DataOutput } from '../bytes.js';
import {
  compatibleAsIs,
  compatibleWithReconfiguredSerializer,
  incompatible,
  type Compatibility,
  type SchemaDescription,
  type Serializer,
  type SerializerSnapshot,
} from '../contract.js';
import { DecodeError, EncodeError } from '../errors.js';
import { registerSnapshotReader } from '../registry.js';
import { CORE_PACKAGE, kindChanged } from './common.js';
import { madeByThisCopy } from '../copies.js';

const KIND = 'core.enum';

export class EnumSerializer<S extends string> implements Serializer<S> {
  readonly kind = KIND;
  private readonly index: Map<string, number>;

  constructor(
    readonly name: string,
    readonly symbols: readonly S[],
  ) {
    if (!name) throw new TypeError('enumeration() needs a name');
    if (!symbols.length) throw new TypeError(`enumeration "${name}" needs at least one symbol`);
    this.index = new Map(symbols.map((s, i) => [s, i]));
    if (this.index.size !== symbols.length) throw new TypeError(`enumeration "${name}" lists a symbol twice`);
  }

  serialize(value: S, out: DataOutput): void {
    const i = this.index.get(value);
    if (i === undefined) throw new EncodeError(`"${String(value)}" is not a symbol of enum ${this.name} (${this.symbols.join(', ')})`);
    out.writeVarUint(i);
  }

  deserialize(input: DataInput): S {
    const at = input.offset;
    const i = input.readVarUint();
    if (i >= this.symbols.length) throw new DecodeError(`enum ${this.name} has no symbol at index ${i}`, at);
    return this.symbols[i];
  }

  snapshot(): EnumSnapshot<S> {
    return new EnumSnapshot(this.name, this.symbols);
  }

  zero(): S {
    return this.symbols[0];
  }
}

export class EnumSnapshot<S extends string> implements SerializerSnapshot<S> {
  readonly kind = KIND;
  readonly version = 1;
  readonly packageName = CORE_PACKAGE;

  constructor(
    readonly name: string,
    readonly symbols: readonly S[],
  ) {}

  write(out: DataOutput): void {
    out.writeString(this.name);
    out.writeVarUint(this.symbols.length);
    for (const s of this.symbols) out.writeString(s);
  }

  restoreSerializer(): Serializer<S> {
    return new EnumSerializer(this.name, this.symbols);
  }

  resolveCompatibility(previous: SerializerSnapshot<unknown>): Compatibility<S> {
    if (!(previous instanceof EnumSnapshot)) return kindChanged(previous, this);
    if (previous.name !== this.name) {
      return incompatible([{ path: '', message: `enum renamed from ${previous.name} to ${this.name}` }]);
    }
    const next = new Set<string>(this.symbols);
    const removed = (previous.symbols as string[]).filter((s) => !next.has(s));
    if (removed.length) {
      return incompatible(
        removed.map((s) => ({
          path: '',
          message: `enum ${this.name} no longer has symbol ${s}; stored values may hold it: keep the symbol, or give the state a \`migrate\` converter`,
        })),
      );
    }
    if (previous.symbols.length === this.symbols.length && previous.symbols.every((s, i) => s === this.symbols[i])) return compatibleAsIs();
    const old = new Set<string>(previous.symbols);
    const added = this.symbols.filter((s) => !old.has(s));
    const order = [...(previous.symbols as S[]), ...added];
    const changes = [
      ...(added.length ? [{ path: '', message: `enum ${this.name} gained ${added.join(', ')}` }] : []),
      ...(added.length === this.symbols.length - previous.symbols.length && order.every((s, i) => s === this.symbols[i])
        ? []
        : [{ path: '', message: `enum ${this.name} symbols reordered; stored indexes keep the previous order` }]),
    ];
    return compatibleWithReconfiguredSerializer(new EnumSerializer(this.name, order), changes);
  }

  describe(): SchemaDescription {
    return { type: 'enum', name: this.name, symbols: [...this.symbols] };
  }
}
madeByThisCopy(EnumSnapshot);

registerSnapshotReader({
  kind: KIND,
  packageName: CORE_PACKAGE,
  currentVersion: 1,
  read: (input) => {
    const name = input.readString();
    const n = input.readLength('enum symbols');
    const symbols: string[] = [];
    for (let i = 0; i < n; i++) symbols.push(input.readString());
    return new EnumSnapshot(name, symbols);
  },
});

export function enumeration<const S extends string>(name: string, symbols: readonly S[]): Serializer<S> {
  return new EnumSerializer(name, symbols);
}
