/**
 * The primitive built-ins: string, boolean, int32, int64 (bigint), float64, bytes.
 *
 * Encodings: int32 and int64 as zigzag varints, float64 as 8 bytes big-endian, boolean as one byte,
 * string as varint length plus UTF-8, bytes as varint length plus the bytes.
 *
 * Rules: the same kind is as is; int32 to int64 or float64 and int64 to float64 (lossy above 2^53)
 * are migrations; anything else is incompatible.
 */
import type { DataInput, DataOutput } from '../bytes.js';
import {
  compatibleAfterMigration,
  compatibleAsIs,
  type Compatibility,
  type Deserializer,
  type SchemaDescription,
  type Serializer,
  type SerializerSnapshot,
} from '../contract.js';
import { DecodeError, EncodeError } from '../errors.js';
import { registerSnapshotReader } from '../registry.js';
import { CORE_PACKAGE, kindChanged } from './common.js';
import { madeByThisCopy } from '../copies.js';
import { describeValue } from '../evolution.js';

interface PrimitiveSpec<T> {
  kind: string;
  type: string;
  write(value: T, out: DataOutput): void;
  read(input: DataInput): T;
  check(value: unknown): string | undefined;
  zero(): T;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

const specs = {
  string: {
    kind: 'core.string',
    type: 'string',
    zero: () => '',
    write: (v: string, out: DataOutput) => out.writeString(v),
    read: (input: DataInput) => input.readString(),
    check: (v: unknown) => (typeof v === 'string' ? undefined : 'expected a string'),
  } satisfies PrimitiveSpec<string>,
  boolean: {
    kind: 'core.boolean',
    type: 'boolean',
    zero: () => false,
    write: (v: boolean, out: DataOutput) => out.writeBoolean(v),
    read: (input: DataInput) => input.readBoolean(),
    check: (v: unknown) => (typeof v === 'boolean' ? undefined : 'expected a boolean'),
  } satisfies PrimitiveSpec<boolean>,
  int32: {
    kind: 'core.int32',
    type: 'int32',
    zero: () => 0,
    write: (v: number, out: DataOutput) => out.writeVarInt(v),
    read: (input: DataInput) => {
      const at = input.offset;
      const v = input.readVarInt();
      if (v < INT32_MIN || v > INT32_MAX) throw new DecodeError(`int32 out of range: ${v}`, at);
      return v;
    },
    check: (v: unknown) =>
      typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? undefined : 'expected an integer in the int32 range',
  } satisfies PrimitiveSpec<number>,
  int64: {
    kind: 'core.int64',
    type: 'int64',
    zero: () => 0n,
    write: (v: bigint, out: DataOutput) => out.writeVarInt64(v),
    read: (input: DataInput) => input.readVarInt64(),
    check: (v: unknown) => (typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX ? undefined : 'expected a bigint in the int64 range'),
  } satisfies PrimitiveSpec<bigint>,
  float64: {
    kind: 'core.float64',
    type: 'float64',
    zero: () => 0,
    write: (v: number, out: DataOutput) => out.writeFloat64(v),
    read: (input: DataInput) => input.readFloat64(),
    check: (v: unknown) => (typeof v === 'number' ? undefined : 'expected a number'),
  } satisfies PrimitiveSpec<number>,
  bytes: {
    kind: 'core.bytes',
    type: 'bytes',
    zero: () => new Uint8Array(0),
    write: (v: Uint8Array, out: DataOutput) => out.writeBytes(v),
    read: (input: DataInput) => input.readBytes(),
    check: (v: unknown) => (v instanceof Uint8Array ? undefined : 'expected a Uint8Array'),
  } satisfies PrimitiveSpec<Uint8Array>,
};

type PrimitiveName = keyof typeof specs;

/** Widenings: from a previous kind to a converter of its values into the next kind's. */
const widenings: Record<string, Record<string, { convert: (v: never) => unknown; lossy?: boolean }>> = {
  'core.int64': { 'core.int32': { convert: (v: number) => BigInt(v) } },
  'core.float64': {
    'core.int32': { convert: (v: number) => v },
    'core.int64': { convert: (v: bigint) => Number(v), lossy: true },
  },
};

export class PrimitiveSerializer<T> implements Serializer<T> {
  readonly kind: string;
  constructor(private readonly spec: PrimitiveSpec<T>) {
    this.kind = spec.kind;
  }

  serialize(value: T, out: DataOutput): void {
    const problem = this.spec.check(value);
    if (problem) throw new EncodeError(`${problem}, got ${describeValue(value)}`);
    this.spec.write(value, out);
  }

  deserialize(input: DataInput): T {
    return this.spec.read(input);
  }

  snapshot(): PrimitiveSnapshot<T> {
    return new PrimitiveSnapshot(this.spec);
  }

  zero(): T {
    return this.spec.zero();
  }
}

export class PrimitiveSnapshot<T> implements SerializerSnapshot<T> {
  readonly kind: string;
  readonly version = 1;
  readonly packageName = CORE_PACKAGE;
  constructor(private readonly spec: PrimitiveSpec<T>) {
    this.kind = spec.kind;
  }

  write(): void {
    // A primitive has no configuration: the kind says it all.
  }

  restoreSerializer(): Serializer<T> {
    return new PrimitiveSerializer(this.spec);
  }

  resolveCompatibility(previous: SerializerSnapshot<unknown>): Compatibility<T> {
    if (previous.kind === this.kind) return compatibleAsIs();
    const widening = widenings[this.kind]?.[previous.kind];
    if (!widening) return kindChanged(previous, this);
    const old = previous.restoreSerializer();
    const convert = widening.convert as (v: unknown) => T;
    const readPrevious: Deserializer<T> = { deserialize: (input) => convert(old.deserialize(input)) };
    return compatibleAfterMigration(readPrevious, [
      {
        path: '',
        message: `widened from ${previous.describe().type} to ${this.spec.type}${widening.lossy ? ' (values beyond 2^53 lose precision)' : ''}`,
        ...(widening.lossy ? { lossy: true } : {}),
      },
    ]);
  }

  describe(): SchemaDescription {
    return { type: this.spec.type };
  }
}
madeByThisCopy(PrimitiveSnapshot);


for (const spec of Object.values(specs) as PrimitiveSpec<unknown>[]) {
  registerSnapshotReader({ kind: spec.kind, packageName: CORE_PACKAGE, currentVersion: 1, read: () => new PrimitiveSnapshot(spec) });
}

const instances = Object.fromEntries(
  Object.entries(specs).map(([name, spec]) => [name, new PrimitiveSerializer(spec as PrimitiveSpec<unknown>)]),
) as { [K in PrimitiveName]: PrimitiveSerializer<ReturnType<(typeof specs)[K]['read']>> };

export const string = (): Serializer<string> => instances.string;
export const boolean = (): Serializer<boolean> => instances.boolean;
export const int32 = (): Serializer<number> => instances.int32;
export const int64 = (): Serializer<bigint> => instances.int64;
export const float64 = (): Serializer<number> => instances.float64;
export const bytes = (): Serializer<Uint8Array> => instances.bytes;
