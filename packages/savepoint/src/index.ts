/**
 * @stateshift/savepoint: the canonical savepoint format, the restore rules, and offline reading, writing and dry-runs.
 *
 * @module @stateshift/savepoint
 */
export { crc32 } from './crc32.js';
export { METADATA_FILE, LOCK_FILE, FORMAT_VERSION, dataFileName } from './format.js';
export type { SavepointStorage, ObjectHandle, ObjectSink, SyncObjectReader, SyncObjectSource, SyncReadOptions } from './storage/storage.js';
export { isPlainName } from './storage/storage.js';
export { storageFor, type SavepointLocation, type StorageOptions } from './storage/resolve.js';
export { FileSystemStorage } from './storage/fs-storage.js';
export { S3Storage, parseS3Url, type S3Options, type S3Credentials } from './storage/s3-storage.js';
export {
  encodeMetadata,
  decodeMetadata,
  newestVersion,
  type SavepointMetadata,
  type OperatorMetadata,
  type StateMetadata,
  type SchemaVersion,
  type DataFileMetadata,
  type KeyGroupOffset,
  keyGroupRangesOf,
} from './metadata.js';
export { normalizeRanges, subtractRanges, intersectRanges, isFullRange, formatRanges, splitByData, keyGroupsInSeveralFiles } from './key-group-ranges.js';
export { EntryCursor, type EntryBlock } from './entry-cursor.js';
export { DataFileWriter, readDataFileBlocks, readVerifiedBlocks, forEachBlockAt, decodeBlocksAt, findEntriesAt, checkDataFileHeader, type EntryMatch, type DataFileWriterOptions, type RawEntry, type ReadOptions } from './data-file.js';
export { SavepointWriter, writeFileAtomically, writeSavepointEntries, type SavepointLayout } from './writer.js';
export { isRunning, writerLockHolder, type WriterLockHolder } from './writer-lock.js';
export { Savepoint, openSavepoint, type EntryFilter } from './reader.js';
export { layoutOfJob, operatorMetadataOf, stateMetadataOf, FIRST_VERSION } from './layout.js';
export {
  planRestore,
  assertRestorable,
  type RestoreOptions,
  type RestorePlan,
  type OperatorPlan,
  type OperatorStatus,
  type StatePlan,
  type StateStatus,
  type StateVerdict,
  type SerializerPlan,
  type SerializerRole,
  type DropReason,
} from './restore-plan.js';
export { entryDecoder, describeKeyBytes, type DecodedEntry } from './decode-entries.js';
export { describeSavepoint, readState, type SavepointSummary, type StateSummary, type StateEntry, type ReadStateOptions } from './manage/inspect.js';
export {
  checkUpgrade,
  MAX_LISTED_FAILURES,
  type CheckUpgradeOptions,
  type CheckScope,
  type EntriesCheck,
  type EntryFailure,
  type RollbackCheck,
  type StateRollback,
  type UpgradeCheck,
  type StateCheck,
  type OperatorCheck,
  type OperatorCheckStatus,
} from './manage/check-upgrade.js';
export {
  prepareRewrite,
  rewritePart,
  rewriteSavepoint,
  outputKeyGroups,
  type PreparedRewrite,
  type RewriteOptions,
  type RewriteProgress,
  type ValueTransform,
} from './manage/rewrite.js';
export { bootstrapSavepoint, type BootstrapEntry, type BootstrapOptions } from './manage/bootstrap.js';
export { mergeSavepoints, planMerge, type MergeOptions } from './manage/merge.js';
export { rescaleSavepoint, jobOfSavepoint, type RescaleOptions } from './manage/rescale.js';
export { CollisionMerger, OperatorCollisions, keyCollisionError, type FoundCollision, type MergeRow, type RekeyedBytes, mergeCollided } from './collisions.js';
