/** The savepoint layout of a job as declared: every state at one schema version. */
import { storedValueSerializer, type JobDeclaration, type OperatorDeclaration, type StateDescriptor } from '@stateshift/core';
import type { OperatorMetadata, StateMetadata } from './metadata.js';
import type { SavepointLayout } from './writer.js';

/** The schema version id a state written with only its declared serializer gets. */
export const FIRST_VERSION = 1;

export function stateMetadataOf(descriptor: StateDescriptor, versionId = FIRST_VERSION): StateMetadata {
  return {
    name: descriptor.name,
    type: descriptor.type,
    ...(descriptor.type === 'map' ? { mapKey: descriptor.keySerializer.snapshot() } : {}),
    versions: [{ id: versionId, snapshot: storedValueSerializer(descriptor).snapshot() }],
  };
}

export function operatorMetadataOf(declaration: OperatorDeclaration): OperatorMetadata {
  return {
    uid: declaration.uid,
    key: declaration.keySerializer.snapshot(),
    ...(declaration.namespaceSerializer ? { namespace: declaration.namespaceSerializer.snapshot() } : {}),
    states: declaration.states.map((d) => stateMetadataOf(d)),
  };
}

export function layoutOfJob(job: JobDeclaration): SavepointLayout {
  return { jobName: job.name, maxParallelism: job.maxParallelism, operators: job.operators.map(operatorMetadataOf) };
}
