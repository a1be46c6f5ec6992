/**
 * What a backend keeps per operator and per state at run time, built once when it opens: the
 * declaration, the serializers it writes with, and the key codec. Handles and the private API of
 * every backend work on these slots.
 */
import {
  BackendClosedError,
  copierOf,
  DataInput,
  DataOutput,
  EncodeError,
  formatKey,
  KeyGroupError,
  keyGroupInRange,
  keyGroupOf,
  storedValueSerializer,
  type KeyGroupRange,
  type OperatorDeclaration,
  hasCheapCopy,
  type Copier,
  type Serializer,
  type StateDescriptor,
  type TtlConfig,
} from '@stateshift/core';

/** Where a key (and namespace) lives: its key group and the key-part bytes (key, then namespace, each length-prefixed). */
export interface KeyLocation {
  keyGroup: number;
  /** A view into the operator's scratch buffer: valid until the next `locate`; copy it to keep it. */
  keyNs: Uint8Array;
}

export class OperatorSlot {
  readonly states = new Map<string, StateSlot>();
  private readonly out = new DataOutput(64);
  private readonly part = new DataOutput(64);

  constructor(
    readonly index: number,
    readonly declaration: OperatorDeclaration,
    private readonly maxParallelism: number,
    private readonly range: KeyGroupRange,
  ) {}

  get uid(): string {
    return this.declaration.uid;
  }

  /**
   * Encodes a key and namespace and checks that this instance serves the key's group. Throws
   * EncodeError for a key the key serializer cannot write, KeyGroupError for a key served elsewhere.
   */
  locate(key: unknown, namespace: unknown): KeyLocation {
    const at = this.locateUnchecked(key, namespace);
    if (!keyGroupInRange(at.keyGroup, this.range)) {
      throw new KeyGroupError(
        `operator "${this.uid}": key ${formatKey(key)} is in key group ${at.keyGroup}, which this instance (key groups ${this.range.start}-${this.range.end}) does not serve; ` +
          'route it to the instance whose range holds it (keyGroupRangeForOperator)',
        at.keyGroup,
      );
    }
    return at;
  }

  /** As `locate`, without the check that this instance serves the key group (restores filter themselves). */
  locateUnchecked(key: unknown, namespace: unknown): KeyLocation {
    // A record touches several states under one key in a row: a primitive key (and namespace) seen
    // last is not encoded and hashed again. Objects are encoded every time (they may have changed).
    const last = this.last;
    if (last && typeof key !== 'object' && typeof namespace !== 'object' && Object.is(key, last.key) && Object.is(namespace, last.namespace)) return last.at;
    const at = this.encode(key, namespace);
    this.last = typeof key !== 'object' && typeof namespace !== 'object' ? { key, namespace, at } : undefined;
    return at;
  }

  private last: { key: unknown; namespace: unknown; at: KeyLocation } | undefined;

  private encode(key: unknown, namespace: unknown): KeyLocation {
    const { keySerializer, namespaceSerializer } = this.declaration;
    const out = this.out;
    out.reset();
    if (key === undefined || key === null) throw new TypeError(`operator "${this.uid}": a key is required, got ${String(key)}`);
    try {
      keySerializer.serialize(key, out);
    } catch (error) {
      throw withPlace(error, `operator "${this.uid}" key`);
    }
    const keyLength = out.length;
    const keyGroup = keyGroupOf(out.peek(), this.maxParallelism);
    const part = this.part;
    part.reset();
    part.writeVarUint(keyLength);
    part.writeRaw(out.peek());
    if (namespaceSerializer) {
      out.reset();
      try {
        namespaceSerializer.serialize(namespace, out);
      } catch (error) {
        throw withPlace(error, `operator "${this.uid}" namespace`);
      }
      part.writeVarUint(out.length);
      part.writeRaw(out.peek());
    } else if (namespace !== undefined) {
      throw new TypeError(`operator "${this.uid}" declares no namespace serializer; call without a namespace`);
    } else {
      part.writeVarUint(0);
    }
    return { keyGroup, keyNs: part.peek() };
  }
}

export class StateSlot {
  /** Writes stored values (TTL-wrapped when the state has a TTL). Replaced by a restore's reconfigured writer. */
  writer: Serializer<unknown>;
  /** Writes map keys (map state). */
  mapKeyWriter: Serializer<unknown> | undefined;
  readonly ttl: TtlConfig | undefined;
  /** A copy of a stored value equal to what a round trip through `writer` gives. */
  copy: Copier;
  /** Whether `copy` is cheaper than decoding the value's bytes again. */
  copyIsCheap: boolean;
  readonly copyMapKey: Copier;
  /** Where `encode` writes: reused for every write of this state. */
  readonly out = new DataOutput(256);

  constructor(
    readonly index: number,
    readonly operator: OperatorSlot,
    readonly stateIndex: number,
    readonly descriptor: StateDescriptor,
  ) {
    this.writer = storedValueSerializer(descriptor);
    this.mapKeyWriter = descriptor.type === 'map' ? descriptor.keySerializer : undefined;
    this.ttl = descriptor.options.ttl;
    this.copy = copierOf(this.writer);
    this.copyIsCheap = hasCheapCopy(this.writer);
    this.copyMapKey = this.mapKeyWriter ? copierOf(this.mapKeyWriter) : (v) => v;
  }

  get name(): string {
    return this.descriptor.name;
  }

  get uid(): string {
    return this.operator.uid;
  }

  /** After a restore: write with the plan's serializers (a reconfigured one keeps reading old bytes). */
  useWriters(writer: Serializer<unknown>, mapKeyWriter?: Serializer<unknown>): void {
    this.writer = writer;
    this.copy = copierOf(writer);
    this.copyIsCheap = hasCheapCopy(writer);
    if (mapKeyWriter) this.mapKeyWriter = mapKeyWriter;
  }

  /** Decodes stored values written one after the other by `encodeInto`. */
  decodeAll(encoded: Uint8Array): unknown[] {
    const input = new DataInput(encoded);
    const values: unknown[] = [];
    while (!input.atEnd) values.push(this.writer.deserialize(input));
    return values;
  }

  /** Serializes stored values one after the other into `out`, failing with the operator and state named. */
  encodeInto(values: readonly unknown[], what = 'value'): Uint8Array {
    const out = this.out;
    out.reset();
    for (let i = 0; i < values.length; i++) {
      try {
        this.writer.serialize(values[i], out);
      } catch (error) {
        throw withPlace(error, `operator "${this.uid}" state "${this.name}" ${values.length > 1 ? `${what} ${i}` : what}`);
      }
    }
    return out.peek();
  }

  /** Serializes one map key (into a buffer of its own, so it survives the value's encoding). */
  encodeMapKey(mapKey: unknown): Uint8Array {
    const out = new DataOutput(32);
    try {
      this.mapKeyWriter!.serialize(mapKey, out);
    } catch (error) {
      throw withPlace(error, `operator "${this.uid}" state "${this.name}" map key`);
    }
    return out.toBytes();
  }
}

/** Adds where a value was being written to an EncodeError (other errors pass through). */
export function withPlace(error: unknown, place: string): unknown {
  if (!(error instanceof EncodeError)) return error;
  const message = error.path && error.message.startsWith(`${error.path}: `) ? error.message.slice(error.path.length + 2) : error.message;
  return new EncodeError(`${message} (${place})`, error.path, { cause: error });
}

export function checkOpen(closed: boolean, what: string): void {
  if (closed) throw new BackendClosedError(`${what}: this backend is closed; open a new one (reopen its dir) to use its state`);
}
