/**
 * The savepoint directory layout.
 *
 *   <dir>/_metadata          written last, atomically: a savepoint without it is not a savepoint
 *   <dir>/op<i>-kg<a>-<b>[-<part>].dat  data files per operator and key-group range (several
 *                            files may share a range, told apart by part; entries of one key and
 *                            state stay in one file, in order)
 *
 * `_metadata`: magic "SSMD", u8 format version, u32 body length, u32 CRC-32 of the body, body.
 *
 * A data file: magic "SSPD", u8 format version, then blocks. A block never spans key groups:
 *   u32 payload length, u32 CRC-32 of the payload, u32 entry count, payload
 * and the payload holds the entries, each:
 *   varuint state index (in the operator's states)   varuint key group
 *   bytes key   bytes namespace   bytes map key (empty unless map state)
 *   varuint schema version id   bytes value
 * where "bytes" is a varint length and the bytes. Readers verify each block's checksum before
 * decoding it, so damage is reported with the block's offset and never as a wrong value.
 */

export const METADATA_FILE = '_metadata';
export const METADATA_MAGIC = new Uint8Array([0x53, 0x53, 0x4d, 0x44]); // "SSMD"
export const DATA_MAGIC = new Uint8Array([0x53, 0x53, 0x50, 0x44]); // "SSPD"
export const FORMAT_VERSION = 1;
export const HEADER_SIZE = 5;
export const BLOCK_HEADER_SIZE = 12;
/** A block is flushed once its payload reaches this size. */
export const TARGET_BLOCK_SIZE = 64 * 1024;
/** Refuse blocks claiming more than this: a corrupt length must not allocate gigabytes. */
export const MAX_BLOCK_SIZE = 256 * 1024 * 1024;

/** A data file's name; `part` tells apart several files of one range (one per state, per worker). */
export function dataFileName(operatorIndex: number, start: number, end: number, part?: string): string {
  if (part !== undefined && !/^[A-Za-z0-9_]+$/.test(part)) throw new TypeError(`data file part "${part}" may hold only letters, digits and _`);
  return `op${operatorIndex}-kg${start}-${end}${part === undefined ? '' : `-${part}`}.dat`;
}
