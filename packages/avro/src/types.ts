/** avsc types as stateshift uses them: longs as bigint, everywhere (nested, defaults, JSON). */
import avsc from 'avsc';
import { SchemaError } from '@stateshift/core';

export type AvroType = avsc.Type;
export type AvroSchema = avsc.Schema;

const TWO_52 = 2 ** 52;

/** Reads a zigzag varint long as a bigint: number arithmetic for the usual small values. */
function readLong(tap: { buf: Buffer; pos: number }): bigint {
  const buf = tap.buf;
  let pos = tap.pos;
  let b = buf[pos++];
  let n = b & 0x7f;
  let scale = 128;
  while (b & 0x80 && scale < 2 ** 49) {
    b = buf[pos++];
    n += (b & 0x7f) * scale;
    scale *= 128;
  }
  if (!(b & 0x80)) {
    tap.pos = pos;
    return BigInt(n % 2 === 1 ? -(n + 1) / 2 : n / 2);
  }
  let big = BigInt(n);
  let shift = 49n;
  do {
    b = buf[pos++];
    big |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80 && shift < 70n);
  tap.pos = pos;
  return (big >> 1n) ^ -(big & 1n);
}

function writeLong(tap: { buf: Buffer; pos: number; writeLong(n: number): void }, value: bigint): void {
  if (value > -TWO_52 && value < TWO_52) return tap.writeLong(Number(value));
  let u = value >= 0n ? value << 1n : ((-value) << 1n) - 1n;
  while (u > 0x7fn) {
    tap.buf[tap.pos++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  tap.buf[tap.pos++] = Number(u);
}

const isLong = (n: unknown) => typeof n === 'bigint' && n >= -(1n << 63n) && n < 1n << 63n;

/**
 * avsc's long, as bigint. avsc's own hook for custom longs (LongType.__with) goes through an 8-byte
 * buffer per value; reading and writing the varint directly is several times faster.
 */
function bigintLongType(): AvroType {
  const methods = {
    fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
    toBuffer: (n: bigint) => {
      const buf = Buffer.alloc(8);
      buf.writeBigInt64LE(n);
      return buf;
    },
    fromJSON: (x: unknown) => BigInt(x as number | string),
    toJSON: (n: bigint) => (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString()),
    isValid: isLong,
    compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
  };
  const reference = avsc.types.LongType.__with(methods) as unknown as object;
  const AbstractLong = Object.getPrototypeOf(reference).constructor as new (noUnpack: boolean) => Record<string, unknown>;
  const type = new AbstractLong(false);
  Object.assign(type, {
    _fromBuffer: methods.fromBuffer,
    _toBuffer: methods.toBuffer,
    _fromJSON: methods.fromJSON,
    _toJSON: methods.toJSON,
    _isValid: methods.isValid,
    compare: methods.compare,
    _read: readLong,
    _write(tap: Parameters<typeof writeLong>[0], value: bigint) {
      if (!isLong(value)) throw new Error(`invalid "long": ${typeof value === 'bigint' ? `${value}n` : String(value)}`);
      writeLong(tap, value);
    },
  });
  return Object.freeze(type) as unknown as AvroType;
}

const bigintLong = bigintLongType();

/** Schema attributes that are not a logical type's parameters. */
const STRUCTURE = new Set(['type', 'logicalType', 'name', 'namespace', 'aliases', 'doc', 'size', 'symbols', 'items', 'values', 'fields', 'default', 'order']);

/**
 * A logical type without an implementation: values are the underlying type's, unchanged, but the
 * logical type and its parameters (a decimal's precision and scale) stay in the schema, so the
 * snapshot keeps them and resolution can refuse a change of meaning (a decimal's scale changed
 * would otherwise reinterpret every stored value).
 */
class KeptLogicalType extends avsc.types.LogicalType {
  readonly params: Record<string, unknown>;

  constructor(schema: Record<string, unknown>, opts?: object) {
    super(schema as AvroSchema, opts);
    if (schema.type === 'long') {
      // avsc builds a number long under a logical type; stateshift's longs are bigint everywhere.
      const self = this as unknown as { _underlyingType: AvroType; _branchConstructor: unknown };
      self._underlyingType = bigintLong;
      self._branchConstructor = (bigintLong as unknown as { _createBranchConstructor(): unknown })._createBranchConstructor();
    }
    this.params = Object.fromEntries(Object.entries(schema).filter(([k]) => !STRUCTURE.has(k)));
  }

  protected override _fromValue(value: unknown): unknown {
    return value;
  }

  protected override _toValue(value: unknown): unknown {
    return value;
  }

  protected override _export(schema: AvroSchema): void {
    Object.assign(schema as object, this.params);
  }

  /** Reads the writer's values as they are when the underlying types are the same (resolution.ts judges the logical types). */
  protected override _resolve(writer: AvroType): ((value: unknown) => unknown) | undefined {
    const plain = (t: AvroType): AvroType => ((t as { typeName: string }).typeName.startsWith('logical:') ? plain((t as unknown as { underlyingType: AvroType }).underlyingType) : t);
    const [ours, theirs] = [plain(this.underlyingType as AvroType), plain(writer)];
    const kind = (t: AvroType) => (t as { typeName: string }).typeName.replace('abstract:', '');
    if (kind(ours) !== kind(theirs)) return undefined;
    if (kind(ours) === 'fixed' && (ours as unknown as { size: number }).size !== (theirs as unknown as { size: number }).size) return undefined;
    return (value) => value;
  }
}

/** The type whose values a type holds: a kept logical type's underlying type, else the type itself. */
export function valueType(type: AvroType): AvroType {
  return type instanceof KeptLogicalType ? valueType(type.underlyingType as AvroType) : type;
}

/** The logical type implementations to parse with: the user's, else one that keeps the logical type. */
function logicalTypes(given: AvroOptions['logicalTypes'] = {}): Record<string, unknown> {
  return new Proxy(given, { get: (target, name) => (typeof name === 'string' && Object.hasOwn(target, name) ? target[name] : KeptLogicalType) });
}

export interface AvroOptions {
  /** avsc logical type implementations, by logical type name (see avsc's `logicalTypes` option). */
  logicalTypes?: Record<string, new (schema: object, opts?: object) => avsc.types.LogicalType>;
}

/**
 * The schema with `{ "type": "long" }` written as `"long"`: avsc looks up only the bare name in its
 * registry, and would read the object form as a number long (rounding values beyond 2^53).
 */
function longsByName(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(longsByName);
  if (!schema || typeof schema !== 'object') return schema;
  const node = schema as Record<string, unknown>;
  if (node.type === 'long' && node.logicalType === undefined) return 'long';
  const out: Record<string, unknown> = { ...node };
  if (typeof node.type === 'object') out.type = longsByName(node.type);
  if (node.items !== undefined) out.items = longsByName(node.items);
  if (node.values !== undefined) out.values = longsByName(node.values);
  if (Array.isArray(node.fields)) out.fields = node.fields.map((f: Record<string, unknown>) => ({ ...f, type: longsByName(f.type) }));
  return out;
}

/** Parses a schema (object or JSON text) into an avsc type with bigint longs. */
export function parseSchema(schema: AvroSchema | string, options: AvroOptions = {}): AvroType {
  let parsed: unknown = schema;
  if (typeof schema === 'string') {
    try {
      parsed = JSON.parse(schema);
    } catch {
      // A bare primitive name like "string" is a schema too.
      parsed = schema;
    }
    // `null` parses as JSON null, but as a schema it is the bare name of the type "null".
    if (parsed === null) parsed = 'null';
  }
  try {
    return avsc.Type.forSchema(longsByName(parsed) as AvroSchema, {
      registry: { long: bigintLong } as unknown as Record<string, AvroType>,
      logicalTypes: logicalTypes(options.logicalTypes) as never,
    });
  } catch (error) {
    throw new SchemaError(`invalid Avro schema: ${(error as Error).message}`, { cause: error });
  }
}

/** The full schema, defaults and aliases included, as JSON text. */
export function schemaText(type: AvroType): string {
  return JSON.stringify(type.schema({ exportAttrs: true }), (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
}
