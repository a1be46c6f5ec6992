/**
 * Changing a savepoint's maxParallelism offline, without the job's code: every state keeps the
 * serializers its snapshots restore (the newest schema version; older versions migrate to it), and
 * every key is re-assigned to its key group under the new maxParallelism.
 */
import { defineJob, listState, mapState, operator, valueState, type JobDeclaration, type StateDescriptor } from '@stateshift/core';
import { newestVersion, type SavepointMetadata } from '../metadata.js';
import { openSavepoint } from '../reader.js';
import { rewriteSavepoint, type RewriteProgress } from './rewrite.js';

/** A job declaration that reads and writes the savepoint as stored (newest schema versions). */
export function jobOfSavepoint(metadata: SavepointMetadata, maxParallelism = metadata.maxParallelism): JobDeclaration {
  return defineJob({
    name: metadata.jobName,
    maxParallelism,
    operators: metadata.operators.map((op) =>
      operator({
        uid: op.uid,
        key: op.key.restoreSerializer(),
        ...(op.namespace ? { namespace: op.namespace.restoreSerializer() } : {}),
        states: op.states.map((s): StateDescriptor => {
          // The stored snapshot already holds a TTL wrapper if the state has one: kept as is.
          const value = newestVersion(s).snapshot.restoreSerializer();
          if (s.type === 'map') return mapState(s.name, s.mapKey!.restoreSerializer(), value);
          return s.type === 'list' ? listState(s.name, value) : valueState(s.name, value);
        }),
      }),
    ),
  });
}

export interface RescaleOptions {
  maxParallelism: number;
  sortBufferBytes?: number;
  onProgress?(p: RewriteProgress): void;
}

/** Writes `src` rescaled to `options.maxParallelism` into `out` (which must not exist or be empty). */
export async function rescaleSavepoint(src: string, out: string, options: RescaleOptions): Promise<SavepointMetadata> {
  const savepoint = await openSavepoint(src);
  const job = jobOfSavepoint(savepoint.metadata, options.maxParallelism);
  return rewriteSavepoint(src, out, { job, sortBufferBytes: options.sortBufferBytes, onProgress: options.onProgress });
}
