/**
 * Snapshot framing and the registry of snapshot readers.
 *
 * Frame layout (every field written by DataOutput):
 *   string  kind          registry key, e.g. "avro"
 *   varuint version       layout version of the payload
 *   string  packageName   the package whose import registers the reader
 *   bytes   payload       varint length, then the payload
 *
 * Adapters register their readers when imported. A kind nobody registered reads as an
 * `OpaqueSnapshot`: it can be described and copied byte for byte, and fails naming the package to
 * install only when its serializer is needed.
 */
import { DataInput, DataOutput } from './bytes.js';
import type { Compatibility, SchemaDescription, Serializer, SerializerSnapshot } from './contract.js';
import { DecodeError, MissingAdapterError, SnapshotVersionError } from './errors.js';

export interface SnapshotReader {
  kind: string;
  packageName: string;
  /** The newest layout version this reader understands; it must read every older one too. */
  currentVersion: number;
  /** Reads a payload of the given layout version. The input holds exactly the payload. */
  read(input: DataInput, version: number): SerializerSnapshot<unknown>;
}

const readers = new Map<string, SnapshotReader>();

/** Registers the reader of a snapshot kind. Registering the same kind again replaces it (hot reload, tests). */
export function registerSnapshotReader(reader: SnapshotReader): void {
  if (!reader.kind || typeof reader.read !== 'function') throw new TypeError('registerSnapshotReader needs a kind and a read function');
  readers.set(reader.kind, reader);
}

export function snapshotReaderFor(kind: string): SnapshotReader | undefined {
  return readers.get(kind);
}

/** Kinds currently registered, sorted. */
export function registeredKinds(): string[] {
  return [...readers.keys()].sort();
}

export function writeSnapshot(out: DataOutput, snapshot: SerializerSnapshot<unknown>): void {
  out.writeString(snapshot.kind);
  out.writeVarUint(snapshot.version);
  out.writeString(snapshot.packageName);
  const payload = new DataOutput();
  snapshot.write(payload);
  out.writeBytes(payload.peek());
}

export function readSnapshot(input: DataInput): SerializerSnapshot<unknown> {
  const start = input.offset;
  const kind = input.readString();
  const version = input.readVarUint();
  const packageName = input.readString();
  const length = input.readLength(`the payload of a "${kind}" snapshot`);
  input.enter();
  const payload = input.slice(length);
  input.leave();
  const reader = readers.get(kind);
  if (!reader) return new OpaqueSnapshot(kind, version, packageName, payload.readRaw(length).slice());
  if (version > reader.currentVersion) throw new SnapshotVersionError(kind, version, reader.currentVersion, reader.packageName);
  let snapshot: SerializerSnapshot<unknown>;
  try {
    snapshot = reader.read(payload, version);
  } catch (cause) {
    if (cause instanceof DecodeError || cause instanceof SnapshotVersionError || cause instanceof MissingAdapterError) throw cause;
    throw new DecodeError(`cannot read the payload of a "${kind}" snapshot (layout ${version}): ${(cause as Error).message}`, start, { cause });
  }
  payload.expectEnd(`the payload of a "${kind}" snapshot`);
  return snapshot;
}

/** A snapshot framed into bytes on its own. */
export function snapshotToBytes(snapshot: SerializerSnapshot<unknown>): Uint8Array {
  const out = new DataOutput();
  writeSnapshot(out, snapshot);
  return out.toBytes();
}

/** Reads bytes holding exactly one framed snapshot. */
export function snapshotFromBytes(bytes: Uint8Array): SerializerSnapshot<unknown> {
  const input = new DataInput(bytes);
  const snapshot = readSnapshot(input);
  input.expectEnd('a serializer snapshot');
  return snapshot;
}

/** A snapshot of a kind no loaded package reads. Kept byte for byte so tools can copy it. */
export class OpaqueSnapshot implements SerializerSnapshot<unknown> {
  constructor(
    readonly kind: string,
    readonly version: number,
    readonly packageName: string,
    readonly payload: Uint8Array,
  ) {}

  write(out: DataOutput): void {
    out.writeRaw(this.payload);
  }

  restoreSerializer(): Serializer<unknown> {
    throw new MissingAdapterError(this.kind, this.packageName, 'read this state');
  }

  resolveCompatibility(): Compatibility<unknown> {
    throw new MissingAdapterError(this.kind, this.packageName, 'check this state');
  }

  describe(): SchemaDescription {
    return { type: 'opaque', kind: this.kind, package: this.packageName, version: this.version, bytes: this.payload.length };
  }
}

export function isOpaqueSnapshot(snapshot: SerializerSnapshot<unknown>): snapshot is OpaqueSnapshot {
  return snapshot instanceof OpaqueSnapshot;
}
