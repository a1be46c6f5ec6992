/**
 * The savepoint directory layout.
 *
 *   <dir>/_metadata          written last, atomically: a savepoint without it is not a savepoint
 *   <dir>/op<i>-kg<a>-<b>[-<part>].dat  data files per operator and key-group range (several
 *                            files may share a range, told apart by part; entries of one key and
 *                            state stay in one file, in order)
 *
 *   <dir>/_lock              while a writer works: its exclusive lock (removed after the commit)
 *
 * `_metadata`: magic "SSMD", u8 format version, u32 body length, u32 CRC-32 of the body, body.
 *
 * A data file (format 2): magic "SSPD", u8 format version, 16-byte file id (random, recorded in
 * `_metadata`), then blocks. A block never spans key groups:
 *   u32 payload length, u32 block checksum, u32 entry count, payload
 * where the block checksum is the CRC-32 of (file id, u64 offset of the block, payload length,
 * entry count, payload): a block checks out only in the file and at the place `_metadata` names.
 * Format 1 had no file id, and its block checksum covered the payload alone.
 * The payload holds the entries, each:
 *   varuint state index (in the operator's states)   varuint key group
 *   bytes key   bytes namespace   bytes map key (empty unless map state)
 *   varuint schema version id   bytes value
 * where "bytes" is a varint length and the bytes. Readers verify each block's checksum before
 * decoding it, so damage is reported with the block's offset and never as a wrong value.
 */

export const METADATA_FILE = '_metadata';
export const METADATA_MAGIC = new Uint8Array([0x53, 0x53, 0x4d, 0x44]); // "SSMD"
export const DATA_MAGIC = new Uint8Array([0x53, 0x53, 0x50, 0x44]); // "SSPD"
export const LOCK_FILE = '_lock';
/** The format this release writes; it reads every format from 1 up to this one. */
export const FORMAT_VERSION = 2;
export const FILE_ID_SIZE = 16;
/** Data file header size by format version. */
export const headerSize = (version: number): number => (version === 1 ? 5 : 5 + FILE_ID_SIZE);
export const BLOCK_HEADER_SIZE = 12;
/** A block is flushed once its payload reaches this size. */
export const TARGET_BLOCK_SIZE = 64 * 1024;
/** Refuse blocks claiming more than this: a corrupt length must not allocate gigabytes. */
export const MAX_BLOCK_SIZE = 256 * 1024 * 1024;
/** Refuse a `_metadata` larger than this before reading it. */
export const MAX_METADATA_SIZE = 1024 * 1024 * 1024;

/** A data file name `_metadata` may list: a plain name that is not `_...` or `.` (reserved). */
export function isDataFileName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(name);
}

/** A data file's name; `part` tells apart several files of one range (one per state, per worker). */
export function dataFileName(operatorIndex: number, start: number, end: number, part?: string): string {
  if (part !== undefined && !/^[A-Za-z0-9_]+$/.test(part)) throw new TypeError(`data file part "${part}" may hold only letters, digits and _`);
  return `op${operatorIndex}-kg${start}-${end}${part === undefined ? '' : `-${part}`}.dat`;
}
