/**
 * Copying a savepoint's entries into LevelDB as bytes (a restore, the in-place copy pass).
 *
 * Entries are walked where they lie in verified blocks (an EntryCursor, no object per entry); each
 * LevelDB key and value is built in one scratch buffer, which can be reused at once because a
 * batch copies what it is given. Batches are written one behind the other: the next batch fills
 * on the main thread while LevelDB writes the previous one on its own.
 */
import type { EntryCursor } from '@stateshift/savepoint';
import type { Db } from './local-metadata.js';

type ChainedBatch = ReturnType<Db['batch']>;

/** Puts gathered into batches of `size`, at most one batch being written while the next fills. */
export class BatchPipeline {
  private batch: ChainedBatch;
  private filled = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly size: number,
  ) {
    this.batch = db.batch();
  }

  /** Adds a put; returns a promise (await it before the next put) when the writer is a batch behind. */
  put(key: Uint8Array, value: Uint8Array): Promise<void> | undefined {
    this.batch.put(key, value);
    if (++this.filled >= this.size) return this.flush();
    return undefined;
  }

  /** Starts writing the filled batch; resolves once the batch before it is written. */
  async flush(): Promise<void> {
    const previous = this.writing;
    if (this.filled) {
      const written = this.batch.write();
      // Awaited by the next flush or by finish(); never left unhandled meanwhile.
      written.catch(() => undefined);
      this.writing = written;
      this.batch = this.db.batch();
      this.filled = 0;
    }
    await previous;
  }

  /** Writes what is left and waits for every batch. */
  async finish(): Promise<void> {
    await this.flush();
    await this.writing;
    this.writing = undefined;
    await this.batch.close();
  }

  /** Gives up: waits for a batch being written (its error is the caller's to report) and drops the rest. */
  async abort(): Promise<void> {
    await this.writing?.catch(() => undefined);
    await this.batch.close().catch(() => undefined);
  }
}

/** Builds LevelDB entries from a cursor's current entry, in one reused buffer. */
export class EntryCopier {
  private scratch = new Uint8Array(1 << 16);

  constructor(private readonly pipeline: BatchPipeline) {}

  /**
   * Puts the cursor's entry as state `stateId` stores it: key = state id, key group, then key and
   * namespace exactly as the block holds them (each length-prefixed), then the map key bytes for a
   * map state; value = the schema version, then the value bytes (the local layout, see layout.ts).
   */
  put(cursor: EntryCursor, stateId: number, withMapKey: boolean): Promise<void> | undefined {
    const src = cursor.payload;
    const mapKeyLength = withMapKey ? cursor.mapKeyEnd - cursor.mapKeyStart : 0;
    const keyLength = 4 + cursor.namespaceEnd - cursor.keyHead + mapKeyLength;
    const version = cursor.version;
    const valueLength = (version < 0x80 ? 1 : varUintLength(version)) + cursor.valueEnd - cursor.valueStart;
    if (keyLength + valueLength > this.scratch.length) this.scratch = new Uint8Array(2 * (keyLength + valueLength));
    const out = this.scratch;
    const keyGroup = cursor.keyGroup;
    out[0] = stateId >> 8;
    out[1] = stateId & 0xff;
    out[2] = keyGroup >> 8;
    out[3] = keyGroup & 0xff;
    let at = copyRun(src, cursor.keyHead, cursor.namespaceEnd, out, 4);
    if (withMapKey) at = copyRun(src, cursor.mapKeyStart, cursor.mapKeyEnd, out, at);
    let v = at;
    let n = version;
    while (n >= 0x80) {
      out[v++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 0x80);
    }
    out[v++] = n;
    copyRun(src, cursor.valueStart, cursor.valueEnd, out, v);
    return this.pipeline.put(out.subarray(0, keyLength), out.subarray(keyLength, keyLength + valueLength));
  }
}

function varUintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    length++;
  }
  return length;
}

/** Copies `src[from, to)` to `out` at `at`; returns where it ends. Short runs (most keys) by hand. */
function copyRun(src: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  const n = to - from;
  if (n <= 32) for (let i = 0; i < n; i++) out[at + i] = src[from + i];
  else out.set(src.subarray(from, to), at);
  return at + n;
}
