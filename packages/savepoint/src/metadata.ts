/**
 * `_metadata`: what a savepoint holds and how to read it. Serializer snapshots are stored framed by
 * core, so a reader without an adapter still lists and copies them (as opaque snapshots).
 */
import {
  CorruptSavepointError,
  DataInput,
  DataOutput,
  DecodeError,
  readSnapshot,
  writeSnapshot,
  type KeyGroupRange,
  type SerializerSnapshot,
  type StateType,
} from '@stateshift/core';
import { crc32 } from './crc32.js';
import { FILE_ID_SIZE, FORMAT_VERSION, isDataFileName, METADATA_FILE, METADATA_MAGIC } from './format.js';
import { isFullRange, normalizeRanges } from './key-group-ranges.js';

export interface SchemaVersion {
  /** Entries name their version by this id. */
  id: number;
  snapshot: SerializerSnapshot<unknown>;
}

export interface StateMetadata {
  name: string;
  type: StateType;
  /** Map key serializer (map state only). */
  mapKey?: SerializerSnapshot<unknown>;
  /** Value serializers by version id (list: element; map: value). The last one is the newest. */
  versions: SchemaVersion[];
}

export interface OperatorMetadata {
  uid: string;
  key: SerializerSnapshot<unknown>;
  namespace?: SerializerSnapshot<unknown>;
  states: StateMetadata[];
}

export interface KeyGroupOffset {
  keyGroup: number;
  /** Offset of the first block of this key group in the file. */
  offset: number;
}

export interface DataFileMetadata {
  /** File name relative to the savepoint directory. */
  name: string;
  /** Index into `operators`. */
  operator: number;
  range: KeyGroupRange;
  entries: number;
  size: number;
  /** Format 2: CRC-32 of the file's block checksums in order; format 1: CRC-32 of the whole file. */
  checksum: number;
  /** The id in the file's header and in every block checksum (format 2); empty for a format-1 file. */
  id: Uint8Array;
  /** Where each key group that has entries starts. */
  index: KeyGroupOffset[];
  /** Entries and value bytes per state index of the operator (for reports without reading data). */
  stateTotals: { entries: number; bytes: number }[];
}

export interface SavepointMetadata {
  jobName: string;
  maxParallelism: number;
  /** ms since the epoch. */
  createdAt: number;
  operators: OperatorMetadata[];
  files: DataFileMetadata[];
  /** The application position (a consumer's offsets) committed with this state, opaque bytes. */
  position?: Uint8Array;
  /**
   * The key groups this savepoint holds, sorted and disjoint. Absent (as in savepoints written
   * before it was recorded) means all of them; fewer than all makes the savepoint partial.
   */
  keyGroupRanges?: KeyGroupRange[];
}

const STATE_TYPES: StateType[] = ['value', 'list', 'map'];
/** Tags of the optional fields after the files. */
const FIELD_POSITION = 1;
const FIELD_KEY_GROUP_RANGES = 2;

export function newestVersion(state: StateMetadata): SchemaVersion {
  return state.versions[state.versions.length - 1];
}

/** The key groups a savepoint holds (all of them unless it records fewer). */
export function keyGroupRangesOf(metadata: Pick<SavepointMetadata, 'maxParallelism' | 'keyGroupRanges'>): KeyGroupRange[] {
  return metadata.keyGroupRanges ?? [{ start: 0, end: metadata.maxParallelism - 1 }];
}

export function encodeMetadata(metadata: SavepointMetadata): Uint8Array {
  const body = new DataOutput(4096);
  body.writeString(metadata.jobName);
  body.writeVarUint(metadata.maxParallelism);
  body.writeVarUint(metadata.createdAt);
  body.writeVarUint(metadata.operators.length);
  for (const op of metadata.operators) {
    body.writeString(op.uid);
    writeSnapshot(body, op.key);
    body.writeBoolean(op.namespace !== undefined);
    if (op.namespace) writeSnapshot(body, op.namespace);
    body.writeVarUint(op.states.length);
    for (const state of op.states) {
      body.writeString(state.name);
      body.writeUint8(STATE_TYPES.indexOf(state.type));
      if (state.type === 'map') writeSnapshot(body, state.mapKey!);
      body.writeVarUint(state.versions.length);
      for (const v of state.versions) {
        body.writeVarUint(v.id);
        writeSnapshot(body, v.snapshot);
      }
    }
  }
  body.writeVarUint(metadata.files.length);
  for (const file of metadata.files) {
    body.writeString(file.name);
    body.writeVarUint(file.operator);
    body.writeVarUint(file.range.start);
    body.writeVarUint(file.range.end);
    body.writeVarUint(file.entries);
    body.writeVarUint(file.size);
    body.writeUint32(file.checksum);
    body.writeBytes(file.id);
    body.writeVarUint(file.index.length);
    for (const { keyGroup, offset } of file.index) {
      body.writeVarUint(keyGroup);
      body.writeVarUint(offset);
    }
    body.writeVarUint(file.stateTotals.length);
    for (const t of file.stateTotals) {
      body.writeVarUint(t.entries);
      body.writeVarUint(t.bytes);
    }
  }
  // Optional trailing fields: a reader of an older layout's files finds none.
  if (metadata.position) {
    body.writeUint8(FIELD_POSITION);
    body.writeBytes(metadata.position);
  }
  if (metadata.keyGroupRanges && !isFullRange(metadata.keyGroupRanges, metadata.maxParallelism)) {
    const ranges = normalizeRanges(metadata.keyGroupRanges);
    body.writeUint8(FIELD_KEY_GROUP_RANGES);
    body.writeVarUint(ranges.length);
    for (const r of ranges) {
      body.writeVarUint(r.start);
      body.writeVarUint(r.end);
    }
  }
  const payload = body.peek();
  const out = new DataOutput(payload.length + 16);
  out.writeRaw(METADATA_MAGIC);
  out.writeUint8(FORMAT_VERSION);
  out.writeUint32(payload.length);
  out.writeUint32(crc32(payload));
  out.writeRaw(payload);
  return out.toBytes();
}

/** Decodes `_metadata`; `path` names the file in errors. Damage gives CorruptSavepointError. */
export function decodeMetadata(bytes: Uint8Array, path = METADATA_FILE): SavepointMetadata {
  const input = new DataInput(bytes);
  try {
    if (bytes.length < 13) throw new CorruptSavepointError(`too short for a savepoint metadata file (${bytes.length} bytes)`, path, bytes.length);
    const magic = input.readRaw(4);
    if (!METADATA_MAGIC.every((b, i) => magic[i] === b)) {
      throw new CorruptSavepointError('not a stateshift savepoint metadata file (wrong magic bytes)', path, 0);
    }
    const version = input.readUint8();
    if (version < 1 || version > FORMAT_VERSION) {
      throw new CorruptSavepointError(
        `savepoint format version ${version} is not one this release reads (it reads 1 to ${FORMAT_VERSION}); upgrade @stateshift/savepoint`,
        path,
        4,
      );
    }
    const length = input.readUint32();
    const checksum = input.readUint32();
    if (length !== input.remaining) {
      throw new CorruptSavepointError(`metadata body should be ${length} bytes but ${input.remaining} are there (truncated or padded)`, path, 13);
    }
    const body = input.readRaw(length);
    if (crc32(body) !== checksum) throw new CorruptSavepointError('metadata checksum mismatch: the file is damaged', path, 13);
    return decodeBody(new DataInput(body), version);
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new CorruptSavepointError(`cannot decode the metadata: ${error.message}`, path, 13 + error.offset, { cause: error });
    }
    throw error;
  }
}

function decodeBody(input: DataInput, version: number): SavepointMetadata {
  const jobName = input.readString();
  const maxParallelism = input.readVarUint();
  const createdAt = input.readVarUint();
  const operators: OperatorMetadata[] = [];
  for (let i = input.readVarUint(); i > 0; i--) {
    const uid = input.readString();
    const key = readSnapshot(input);
    const namespace = input.readBoolean() ? readSnapshot(input) : undefined;
    const states: StateMetadata[] = [];
    for (let s = input.readVarUint(); s > 0; s--) {
      const name = input.readString();
      const typeAt = input.offset;
      const type = STATE_TYPES[input.readUint8()];
      if (!type) throw new DecodeError('unknown state type', typeAt);
      const mapKey = type === 'map' ? readSnapshot(input) : undefined;
      const versions: SchemaVersion[] = [];
      for (let v = input.readVarUint(); v > 0; v--) versions.push({ id: input.readVarUint(), snapshot: readSnapshot(input) });
      if (!versions.length) throw new DecodeError(`state "${name}" has no schema version`, input.offset);
      states.push({ name, type, ...(mapKey ? { mapKey } : {}), versions });
    }
    operators.push({ uid, key, ...(namespace ? { namespace } : {}), states });
  }
  const files: DataFileMetadata[] = [];
  const names = new Set<string>();
  for (let i = input.readVarUint(); i > 0; i--) {
    const nameAt = input.offset;
    const name = input.readString();
    // Confinement: a data file is a plain name inside the savepoint, listed once.
    if (!isDataFileName(name) || names.has(name)) throw new DecodeError(`data file name ${JSON.stringify(name)} is not a plain file name of this savepoint, or is listed twice`, nameAt);
    names.add(name);
    const operator = input.readVarUint();
    const range = { start: input.readVarUint(), end: input.readVarUint() };
    const entries = input.readVarUint();
    const size = input.readVarUint();
    const checksum = input.readUint32();
    const id = version >= 2 ? input.readRaw(input.readLength('a file id')).slice() : new Uint8Array(0);
    if (version >= 2 && id.length !== FILE_ID_SIZE) throw new DecodeError(`data file ${name} has a ${id.length}-byte id`, input.offset);
    const index: KeyGroupOffset[] = [];
    for (let k = input.readVarUint(); k > 0; k--) index.push({ keyGroup: input.readVarUint(), offset: input.readVarUint() });
    const stateTotals: { entries: number; bytes: number }[] = [];
    for (let k = input.readVarUint(); k > 0; k--) stateTotals.push({ entries: input.readVarUint(), bytes: input.readVarUint() });
    if (operator >= operators.length) throw new DecodeError(`data file ${name} names operator ${operator} of ${operators.length}`, input.offset);
    checkIndex(name, range, size, index, maxParallelism, input.offset);
    files.push({ name, operator, range, entries, size, checksum, id, index, stateTotals });
  }
  let position: Uint8Array | undefined;
  let keyGroupRanges: KeyGroupRange[] | undefined;
  while (!input.atEnd) {
    const fieldAt = input.offset;
    const field = input.readUint8();
    if (field === FIELD_POSITION) position = input.readBytes().slice();
    else if (field === FIELD_KEY_GROUP_RANGES) keyGroupRanges = readKeyGroupRanges(input, maxParallelism);
    else throw new DecodeError(`unknown optional metadata field ${field}`, fieldAt);
  }
  return { jobName, maxParallelism, createdAt, operators, files, ...(position ? { position } : {}), ...(keyGroupRanges ? { keyGroupRanges } : {}) };
}

function readKeyGroupRanges(input: DataInput, maxParallelism: number): KeyGroupRange[] {
  const ranges: KeyGroupRange[] = [];
  for (let k = input.readVarUint(); k > 0; k--) {
    const at = input.offset;
    const range = { start: input.readVarUint(), end: input.readVarUint() };
    const previous = ranges[ranges.length - 1];
    if (range.end < range.start || range.end >= maxParallelism || (previous && range.start <= previous.end + 1)) {
      throw new DecodeError(`key-group range ${range.start}-${range.end} is not sorted, disjoint and within 0-${maxParallelism - 1}`, at);
    }
    ranges.push(range);
  }
  return ranges;
}

/** A file's range lies within the key groups, and its index goes forward through the file. */
function checkIndex(name: string, range: KeyGroupRange, size: number, index: KeyGroupOffset[], maxParallelism: number, at: number): void {
  let ok = range.start <= range.end && range.end < maxParallelism;
  for (let i = 0; ok && i < index.length; i++) {
    const { keyGroup, offset } = index[i];
    const previous = index[i - 1];
    ok = keyGroup >= range.start && keyGroup <= range.end && offset < size && (!previous || (keyGroup > previous.keyGroup && offset > previous.offset));
  }
  if (!ok) throw new DecodeError(`data file ${name}: its key-group range or index does not fit the file and the savepoint`, at);
}
