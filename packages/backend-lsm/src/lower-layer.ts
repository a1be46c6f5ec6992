/**
 * A restored savepoint read where it lies (restore: 'in-place'): a read-only layer under LevelDB.
 *
 * A point read that misses the write buffer and LevelDB looks the key up here: the key group's
 * blocks of the data files that hold the state are read synchronously (the file's key-group index
 * gives where they start), verified (format-2 block checksums name their file and offset), and kept
 * as a packed sorted table per (file, key group) in a bounded cache (a SortedGroup). Entries are
 * keyed exactly as LevelDB keys them, so the layers merge by key; a list's elements become one
 * value, as in LevelDB.
 *
 * The data files are read through the storage's synchronous reads (`openSyncSource`): `readSync` on
 * the file system, ranged GETs by a worker thread on S3. They are opened read-only and never modified.
 */
import { CorruptSavepointError, keyGroupInRange, RestoreError, type KeyGroupRange } from '@stateshift/core';
import { checkDataFileHeader, decodeBlocksAt, findEntriesAt, forEachBlockAt, formatRanges, keyGroupsInSeveralFiles, normalizeRanges, type DataFileMetadata, type EntryBlock, type ObjectHandle, type Savepoint, type SavepointStorage, type SyncObjectReader, type SyncObjectSource } from '@stateshift/savepoint';
import type { LsmState } from './backend.js';
import { joinList } from './ingest.js';
import { entryKeyOf, keyGroupPrefix, latin1, splitRest, versioned } from './layout.js';
import { SortedGroup } from './sorted-group.js';

interface OpenFile {
  meta: DataFileMetadata;
  path: string;
  reader: SyncObjectReader;
  /** Opened on the copy pass's first asynchronous read of the file. */
  handle?: Promise<ObjectHandle | undefined>;
  /** Savepoint state index to the backend's state. */
  states: Map<number, LsmState>;
}

const HEADER = 5 + 16;
/** Bytes of key groups read once kept for their second read (which builds the group's index). */
const PEEKED_BYTES = 32 * 1024 * 1024;

/** A key group's blocks as read, and the file offset they start at. */
interface GroupBytes {
  data: Uint8Array;
  start: number;
}

/** One key group of one data file. */
export interface LowerPart {
  readonly file: OpenFile;
  readonly keyGroup: number;
  /** The backend's state per savepoint state index (none: a state the job dropped). */
  readonly states: readonly (LsmState | undefined)[];
}

/**
 * A read in place takes a key's value from the first file that holds it (a point read stops there),
 * so it refuses a state whose key groups more than one data file may hold: a list split between two
 * files would come back short, and a key stored in both would read as the first file's value, where
 * a copying restore keeps the last file's. A copying restore joins such files (and refuses a split
 * list).
 */
function checkStatesInOneFile(savepoint: Savepoint, uid: string, byIndex: Map<number, LsmState>, range: KeyGroupRange): void {
  const shared = keyGroupsInSeveralFiles(savepoint.files(uid, range));
  for (const [index, state] of byIndex) {
    const keyGroups = [...(shared.get(index) ?? [])].filter((kg) => keyGroupInRange(kg, range));
    if (!keyGroups.length) continue;
    const what = state.slot.descriptor.type === 'list' ? 'a list split between files would come back short' : 'a key stored in two files would read differently than after a copy';
    throw new RestoreError(
      `operator "${uid}" state "${state.slot.name}": more than one data file of ${savepoint.dir} holds this state's key groups ` +
        `${formatRanges(normalizeRanges(keyGroups.map((kg) => ({ start: kg, end: kg }))))}, and a restore in place reads a key from one file only (${what}); ` +
        "restore with restore: 'copy', which joins the files",
    );
  }
}

export class LowerLayer {
  /** Per backend state id: the files that may hold its entries. */
  private readonly filesOf = new Map<number, OpenFile[]>();
  private readonly files: OpenFile[] = [];
  private readonly cache = new Map<string, SortedGroup>();

  private constructor(
    readonly location: string,
    private readonly source: SyncObjectSource,
    private readonly storage: SavepointStorage,
    private readonly range: KeyGroupRange,
    private readonly cacheGroups: number,
  ) {}

  /**
   * Opens the data files of the restored operators (those holding the served key groups) and checks
   * their sizes and headers. `states` maps a savepoint operator uid and state index to the backend's
   * state. `timeoutMs`: how long one read from object storage may block (default 30 s).
   */
  static async open(
    savepoint: Savepoint,
    states: Map<string, Map<number, LsmState>>,
    range: KeyGroupRange,
    options: { cacheGroups?: number; timeoutMs?: number } = {},
  ): Promise<LowerLayer> {
    if (options.timeoutMs !== undefined && !(typeof options.timeoutMs === 'number' && options.timeoutMs > 0)) {
      throw new TypeError(`openLsmBackend(): inPlaceReadTimeout must be a positive number of milliseconds, got ${String(options.timeoutMs)}`);
    }
    if (typeof savepoint.storage.openSyncSource !== 'function') {
      throw new RestoreError(`a restore in place reads the savepoint synchronously, which the storage of ${savepoint.dir} does not offer (no openSyncSource). Restore with restore: 'copy'`);
    }
    const source = await savepoint.storage.openSyncSource({ timeoutMs: options.timeoutMs });
    const layer = new LowerLayer(savepoint.dir, source, savepoint.storage, range, options.cacheGroups ?? 256);
    try {
      for (const [uid, byIndex] of states) {
        checkStatesInOneFile(savepoint, uid, byIndex, range);
        for (const meta of savepoint.files(uid, range)) {
          const path = savepoint.storage.objectPath(meta.name);
          const reader = source.openSync(meta.name);
          if (!reader) throw new CorruptSavepointError('data file is missing', path);
          const file: OpenFile = { meta, path, reader, states: byIndex };
          layer.files.push(file);
          if (reader.size !== meta.size) throw new CorruptSavepointError(`data file is ${reader.size} bytes but the metadata says ${meta.size}`, path, Math.min(reader.size, meta.size));
          checkDataFileHeader(reader.readSync(0, Math.min(HEADER, meta.size)), meta, path);
          for (const state of byIndex.values()) {
            const list = layer.filesOf.get(state.id) ?? [];
            list.push(file);
            layer.filesOf.set(state.id, list);
          }
        }
      }
    } catch (error) {
      layer.close();
      throw error;
    }
    return layer;
  }

  /**
   * The stored value of a whole entry key (state id, key group, key part, map key), or undefined.
   * The first read of a key group looks for the key in the verified blocks without building the
   * group's index (so a first read does not pay for the whole group); a second one builds it.
   */
  get(stateId: number, keyGroup: number, key: Uint8Array): Uint8Array | undefined {
    const files = this.filesOf.get(stateId);
    if (!files) return undefined;
    for (const file of files) {
      const cacheKey = `${file.meta.name}:${keyGroup}`;
      if (this.copiedParts.has(cacheKey)) continue;
      let value: Uint8Array | undefined;
      if (this.cache.has(cacheKey) || this.peeked.has(cacheKey)) value = this.group(file, keyGroup)?.get(key);
      else value = this.peek(file, keyGroup, stateId, key, cacheKey);
      if (value) return value;
    }
    return undefined;
  }

  /**
   * Parts (file:key group) the copy pass has written into LevelDB. Every key they hold is there now,
   * as a value or a tombstone, and stays there while this layer lives (only a crash's undo removes
   * keys, and a reopen makes a new layer): point reads skip them, and their groups are let go.
   * Scans still read them: clearing a map needs their keys, to leave tombstones that hide them.
   */
  private readonly copiedParts = new Set<string>();

  /** Called by the copy pass once a part's entries are in LevelDB. */
  copied(part: LowerPart): void {
    const cacheKey = `${part.file.meta.name}:${part.keyGroup}`;
    this.copiedParts.add(cacheKey);
    this.cache.delete(cacheKey);
    this.takePeeked(cacheKey);
  }

  /**
   * Key groups read once without an index: the next read builds it, from the bytes read the first
   * time while they are kept (at most PEEKED_BYTES in all: from S3 a read is a round trip).
   */
  private readonly peeked = new Map<string, GroupBytes | undefined>();
  private peekedBytes = 0;

  private keepPeeked(cacheKey: string, bytes: GroupBytes | undefined): void {
    this.peeked.set(cacheKey, bytes);
    this.peekedBytes += bytes?.data.length ?? 0;
    if (this.peeked.size > this.cacheGroups) {
      const [oldest, dropped] = this.peeked.entries().next().value!;
      this.peekedBytes -= dropped?.data.length ?? 0;
      this.peeked.delete(oldest);
    }
    for (const [name, kept] of this.peeked) {
      if (this.peekedBytes <= PEEKED_BYTES) break;
      if (kept) this.takePeeked(name);
    }
  }

  /** The bytes kept from a group's first read (the key stays: the group is not peeked again). */
  private takePeeked(cacheKey: string): GroupBytes | undefined {
    const bytes = this.peeked.get(cacheKey);
    if (bytes) {
      this.peekedBytes -= bytes.data.length;
      this.peeked.set(cacheKey, undefined);
    }
    return bytes;
  }

  /** Finds one key's entries in a key group's verified blocks, making no others. */
  private peek(file: OpenFile, keyGroup: number, stateId: number, key: Uint8Array, cacheKey: string): Uint8Array | undefined {
    const bytes = this.groupBytes(file, keyGroup);
    this.keepPeeked(cacheKey, bytes);
    if (!bytes) return undefined;
    let state: LsmState | undefined;
    let stateIndex = -1;
    for (const [index, s] of file.states) if (s.id === stateId) [state, stateIndex] = [s, index];
    if (!state) return undefined;
    const parts = splitEntryKey(key);
    const isMap = state.slot.descriptor.type === 'map';
    const found = findEntriesAt(bytes.data, bytes.start, file.meta, file.path, { state: stateIndex, key: parts.key, namespace: parts.namespace, ...(isMap ? { mapKey: parts.mapKey } : {}) });
    for (const entry of found) if (entry.keyGroup !== keyGroup) throw new CorruptSavepointError(`an entry of key group ${entry.keyGroup} among key group ${keyGroup}'s blocks`, file.path);
    if (!found.length) return undefined;
    if (state.slot.descriptor.type === 'list') return joinList(state, found.map((e) => ({ version: e.version, bytes: e.value })));
    const last = found[found.length - 1];
    return versioned(last.version, last.value);
  }

  private groupBytes(file: OpenFile, keyGroup: number): GroupBytes | undefined {
    const range = byteRange(file, keyGroup);
    return range && { data: file.reader.readSync(range.start, range.end - range.start), start: range.start };
  }

  /** Every entry of a state in one key group, sorted by key (as LevelDB orders them). */
  entries(stateId: number, keyGroup: number): { keys: Uint8Array[]; values: Uint8Array[] } {
    // One file at most holds a state's entries of a key group (open refuses others:
    // checkStatesInOneFile), though other files may hold the key group for other states.
    const prefix = keyGroupPrefix(stateId, keyGroup);
    for (const file of this.filesOf.get(stateId) ?? []) {
      const found = this.group(file, keyGroup)?.under(prefix);
      if (found?.keys.length) return found;
    }
    return { keys: [], values: [] };
  }

  /** The key groups this layer may hold for a state, ascending. */
  keyGroups(stateId: number): number[] {
    const groups = new Set<number>();
    for (const file of this.filesOf.get(stateId) ?? []) for (const { keyGroup } of file.meta.index) if (keyGroupInRange(keyGroup, this.range)) groups.add(keyGroup);
    return [...groups].sort((a, b) => a - b);
  }

  /**
   * Every (data file, key group) this layer serves, in file order, with the backend's state per
   * savepoint state index: what the copy pass walks.
   */
  parts(): LowerPart[] {
    const parts: LowerPart[] = [];
    for (const file of this.files) {
      const states: LsmState[] = [];
      for (const [index, state] of file.states) states[index] = state;
      for (const { keyGroup } of file.meta.index) if (keyGroupInRange(keyGroup, this.range)) parts.push({ file, keyGroup, states });
    }
    return parts;
  }

  /**
   * A part's verified blocks, read with the storage's asynchronous ranged reads (the copy pass reads
   * each part once, ahead of its use, and must not block the thread as point reads do; on S3 a
   * synchronous read would hold the event loop for a whole GET). Not cached: the bytes are read
   * into `into.bytes` (grown when too small), which the blocks lie in until it is read into again.
   */
  async blocks(part: LowerPart, into: { bytes: Uint8Array }): Promise<EntryBlock[]> {
    const { file, keyGroup } = part;
    const range = byteRange(file, keyGroup);
    if (!range) return [];
    file.handle ??= this.storage.open(file.meta.name);
    const handle = await file.handle.catch((error: unknown) => {
      // A failed open is not kept: the next read of the file opens it again.
      file.handle = undefined;
      throw error;
    });
    if (!handle) throw new CorruptSavepointError('data file is missing', file.path);
    const length = range.end - range.start;
    if (into.bytes.length < length) into.bytes = new Uint8Array(length);
    const data = into.bytes.subarray(0, length);
    let at = 0;
    for await (const chunk of handle.read(range.start, range.end, { reuse: true })) {
      data.set(chunk.subarray(0, data.length - at), at);
      at += chunk.length;
    }
    if (at < data.length) throw new CorruptSavepointError('data file ends inside a key group', file.path, range.start + at);
    const blocks: EntryBlock[] = [];
    forEachBlockAt(data, range.start, file.meta, file.path, (block) => blocks.push(block));
    return blocks;
  }

  close(): void {
    for (const file of this.files.splice(0)) {
      file.reader.close();
      void file.handle?.then((handle) => handle?.close()).catch(() => undefined);
    }
    this.source.close();
    this.cache.clear();
    this.peeked.clear();
    this.peekedBytes = 0;
  }

  private group(file: OpenFile, keyGroup: number): SortedGroup | undefined {
    const cacheKey = `${file.meta.name}:${keyGroup}`;
    const cached = this.cache.get(cacheKey);
    if (cached) {
      // Most recently used last.
      this.cache.delete(cacheKey);
      this.cache.set(cacheKey, cached);
      return cached;
    }
    const bytes = this.takePeeked(cacheKey) ?? this.groupBytes(file, keyGroup);
    if (!bytes) return undefined;
    const raw = decodeBlocksAt(bytes.data, bytes.start, file.meta, file.path);
    const group = buildGroup(raw, file, keyGroup);
    this.cache.set(cacheKey, group);
    if (this.cache.size > this.cacheGroups) this.cache.delete(this.cache.keys().next().value!);
    return group;
  }
}

/** Entries keyed as LevelDB keys them; the elements of one list joined into one value. */
function buildGroup(raw: ReturnType<typeof decodeBlocksAt>, file: OpenFile, keyGroup: number): SortedGroup {
  const keys: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  const lists = new Map<string, { key: Uint8Array; state: LsmState; parts: { version: number; bytes: Uint8Array }[] }>();
  for (const entry of raw) {
    if (entry.keyGroup !== keyGroup) throw new CorruptSavepointError(`an entry of key group ${entry.keyGroup} among key group ${keyGroup}'s blocks`, file.path);
    const state = file.states.get(entry.state);
    if (!state) continue; // a state the job dropped
    const type = state.slot.descriptor.type;
    const key = entryKeyOf(state.id, keyGroup, entry.key, entry.namespace, type === 'map' ? entry.mapKey : undefined);
    if (type === 'list') {
      const id = latin1(key);
      let list = lists.get(id);
      if (!list) lists.set(id, (list = { key, state, parts: [] }));
      list.parts.push({ version: entry.version, bytes: entry.value });
    } else {
      keys.push(key);
      values.push(versioned(entry.version, entry.value));
    }
  }
  for (const { key, state, parts } of lists.values()) {
    keys.push(key);
    values.push(joinList(state, parts));
  }
  return SortedGroup.of(keys, values);
}

/** Where a key group's blocks lie in a data file, from its index. */
function byteRange(file: OpenFile, keyGroup: number): { start: number; end: number } | undefined {
  const index = file.meta.index;
  const at = index.findIndex((e) => e.keyGroup === keyGroup);
  if (at < 0) return undefined;
  return { start: index[at].offset, end: at + 1 < index.length ? index[at + 1].offset : file.meta.size };
}

/** A merge of LevelDB's entries (which shadow, empty values being deletions) with the layer's, by key. */
export function* mergeLayers(
  upper: [Uint8Array, Uint8Array][],
  lower: { keys: Uint8Array[]; values: Uint8Array[] },
): Generator<[Uint8Array, Uint8Array]> {
  let i = 0;
  let j = 0;
  while (i < upper.length || j < lower.keys.length) {
    const c = i >= upper.length ? 1 : j >= lower.keys.length ? -1 : Buffer.compare(upper[i][0], lower.keys[j]);
    if (c <= 0) {
      if (upper[i][1].length) yield upper[i];
      if (c === 0) j++;
      i++;
    } else {
      yield [lower.keys[j], lower.values[j]];
      j++;
    }
  }
}

/** The key, namespace and map key (the rest) of a whole entry key. */
function splitEntryKey(key: Uint8Array): { key: Uint8Array; namespace: Uint8Array; mapKey: Uint8Array } {
  const { key: k, namespace, suffix } = splitRest(key.subarray(4));
  return { key: k, namespace, mapKey: suffix };
}
