/**
 * Writing a new savepoint from an existing one, offline: through a new job's declaration (new
 * serializers migrate every entry, added states start empty, operators the job lacks are dropped
 * with `allowNonRestoredState`), with operators renamed, values transformed, or maxParallelism
 * changed (every key re-assigned to its key group). The source is never modified; the output's
 * `_metadata` is written last, atomically.
 *
 * Work splits by key-group range (`rewritePart`), so worker threads or machines can each write the
 * files of one range and the caller commits them together.
 */
import {
  DataOutput,
  EncodeError,
  formatKey,
  keyGroupInRange,
  keyGroupOf,
  RestoreError,
  type JobDeclaration,
  type KeyGroupRange,
  type Serializer,
} from '@stateshift/core';
import { DataFileWriter, readDataFileBlocks, type RawEntry } from '../data-file.js';
import { CollisionMerger, OperatorCollisions } from '../collisions.js';
import { describeKeyBytes, entryDecoder, type DecodedEntry } from '../decode-entries.js';
import { dataFileName } from '../format.js';
import { FIRST_VERSION } from '../layout.js';
import { formatRanges, intersectRanges, isFullRange } from '../key-group-ranges.js';
import { keyGroupRangesOf, type DataFileMetadata, type SavepointMetadata } from '../metadata.js';
import { openSavepoint, type Savepoint } from '../reader.js';
import { assertRestorable, planRestore, type OperatorPlan, type RestorePlan } from '../restore-plan.js';
import { storageFor, type SavepointLocation, type StorageOptions } from '../storage/resolve.js';
import { SavepointWriter, type SavepointLayout } from '../writer.js';
import { checkSortBudget, EntrySorter } from './entry-sorter.js';

/** Changes a value on its way into the new savepoint; `undefined` drops the entry. */
export type ValueTransform = (value: unknown, entry: { key: unknown; namespace: unknown; mapKey?: unknown }) => unknown;

export interface RewriteOptions {
  /** The job the new savepoint is for: its serializers, states and maxParallelism. */
  job: JobDeclaration;
  allowNonRestoredState?: boolean;
  /** The savepoint's job name differs from the job's, and it is the same job. */
  allowJobNameChange?: boolean;
  /** Memory for re-keyed entries before a sorted run is spilled to disk (estimated bytes). */
  sortBufferBytes?: number;
  /** Operator uids to change, old to new (applied before matching the job). */
  renameOperators?: Record<string, string>;
  /** Value transforms by "uid/state" (the new uid), applied after migration. */
  transform?: Record<string, ValueTransform>;
}

export interface PreparedRewrite {
  savepoint: Savepoint;
  plan: RestorePlan;
  layout: SavepointLayout;
  /** New uid to the uid in the source savepoint. */
  sourceUid: Map<string, string>;
  /** The key groups the source holds (the output holds those within the range it writes). */
  sourceKeyGroups: KeyGroupRange[];
  /** Keys must be decoded and their key groups recomputed. */
  rekey: Set<string>;
  options: RewriteOptions;
}

export interface RewriteProgress {
  done: number;
  total: number;
}

/** Decides the rewrite as a restore would (same rules), and the layout of the output. */
export function prepareRewrite(savepoint: Savepoint, options: RewriteOptions): PreparedRewrite {
  const { job } = options;
  if (options.sortBufferBytes !== undefined) checkSortBudget(options.sortBufferBytes);
  const renames = options.renameOperators ?? {};
  for (const from of Object.keys(renames)) {
    if (!savepoint.operator(from)) throw new TypeError(`cannot rename operator "${from}": the savepoint has no such operator`);
  }
  const rescale = job.maxParallelism !== savepoint.maxParallelism;
  const sourceKeyGroups = keyGroupRangesOf(savepoint.metadata);
  if (rescale && !isFullRange(sourceKeyGroups, savepoint.maxParallelism)) {
    throw new RestoreError(
      `the savepoint is partial (key groups ${formatRanges(sourceKeyGroups)} of 0-${savepoint.maxParallelism - 1}) and a rescale moves keys between key groups: ` +
        'join the partial savepoints first (mergeSavepoints, or stateshift merge), then rescale',
    );
  }
  const metadata: SavepointMetadata = {
    ...savepoint.metadata,
    // The job decides maxParallelism: a different one is a rescale, done by re-keying.
    maxParallelism: job.maxParallelism,
    keyGroupRanges: rescale ? undefined : savepoint.metadata.keyGroupRanges,
    operators: savepoint.metadata.operators.map((op) => ({ ...op, uid: renames[op.uid] ?? op.uid })),
  };
  // A rewrite keeps what the source holds: a partial source gives a partial output that says so.
  const plan = planRestore(metadata, job, {
    allowNonRestoredState: options.allowNonRestoredState,
    allowJobNameChange: options.allowJobNameChange,
    allowPartialSavepoint: true,
  });
  assertRestorable(plan);
  const sourceUid = new Map<string, string>();
  for (const op of plan.operators) {
    if (op.status === 'matched') sourceUid.set(op.uid, savepoint.metadata.operators[op.savepointIndex!].uid);
  }
  // Map keys that migrate into a merging state are merged as re-keyed entries are: read whole first.
  const merges = (op: OperatorPlan) => op.states.some((s) => s.rekeyMapKeys && s.descriptor?.options.mergeOnCollision);
  const rekey = new Set(plan.operators.filter((op) => op.status === 'matched' && (rescale || op.rekey || merges(op))).map((op) => op.uid));
  for (const key of Object.keys(options.transform ?? {})) {
    const [uid, state] = key.split('/');
    if (!job.operator(uid)?.state(state ?? '')) throw new TypeError(`cannot transform "${key}": the job declares no such operator/state`);
  }
  const layout: SavepointLayout = {
    jobName: job.name,
    maxParallelism: job.maxParallelism,
    // The application position committed with the state stays with it.
    ...(savepoint.metadata.position ? { position: savepoint.metadata.position } : {}),
    operators: job.operators.map((declaration) => {
      const op = plan.operators.find((o) => o.uid === declaration.uid)!;
      return {
        uid: declaration.uid,
        key: (op.keyWriter ?? declaration.keySerializer).snapshot(),
        ...(declaration.namespaceSerializer ? { namespace: (op.namespaceWriter ?? declaration.namespaceSerializer).snapshot() } : {}),
        states: declaration.states.map((descriptor) => {
          const s = op.states.find((x) => x.state === descriptor.name)!;
          return {
            name: descriptor.name,
            type: descriptor.type,
            ...(descriptor.type === 'map' ? { mapKey: s.mapKeyWriter!.snapshot() } : {}),
            versions: [{ id: FIRST_VERSION, snapshot: s.writer!.snapshot() }],
          };
        }),
      };
    }),
  };
  return { savepoint, plan, layout, sourceUid, sourceKeyGroups: rescale ? [{ start: 0, end: job.maxParallelism - 1 }] : sourceKeyGroups, rekey, options };
}

/** `value` written by `serializer` into `out`: a copy of the bytes if `copy`, else a view valid until `out` is written again. */
function encode(serializer: Serializer<unknown>, value: unknown, out: DataOutput, copy: boolean): Uint8Array {
  out.reset();
  serializer.serialize(value, out);
  return copy ? out.toBytes() : out.peek();
}

/** `value` written by `serializer` (a copy of the bytes, `out` reused). */
export const bytesOf = (serializer: Serializer<unknown>, value: unknown, out: DataOutput): Uint8Array => encode(serializer, value, out, true);

/**
 * Writes the output data files of the key groups in `range` into `outDir` (file names get
 * `part`), returning their metadata for the commit. Without re-keying, each source file becomes one
 * output file streamed in order; with re-keying (a key migration or a rescale) an operator's
 * entries of the range are collected and sorted by their new key group first.
 */
export async function rewritePart(
  prepared: PreparedRewrite,
  outDir: SavepointLocation,
  range: KeyGroupRange,
  part: string,
  onProgress?: (done: number) => void,
): Promise<DataFileMetadata[]> {
  const { plan, savepoint, layout, options } = prepared;
  const files: DataFileMetadata[] = [];
  // A part that fails leaves nothing: the files it finished are removed (the one it was writing
  // removes itself).
  try {
    const out = new DataOutput(256);
    const outs = { key: new DataOutput(64), namespace: new DataOutput(64), mapKey: new DataOutput(64), value: new DataOutput(256) };
    let done = 0;
    for (const [operatorIndex, opLayout] of layout.operators.entries()) {
      const op = plan.operators.find((o) => o.uid === opLayout.uid)!;
      if (op.status !== 'matched') continue;
      const collisions = new OperatorCollisions(op, options.sortBufferBytes);
      const tracking = op.states.some((s) => s.status === 'restored' && collisions.tracks(s));
      // Re-keyed states that merge collisions are held until the operator is read whole, then merged.
      const mergers = new Map<string, CollisionMerger>();
      for (const s of op.states) if (s.status === 'restored' && collisions.tracks(s) && s.descriptor!.options.mergeOnCollision) mergers.set(s.state, new CollisionMerger(op.uid, s));
      const source = prepared.sourceUid.get(op.uid)!;
      const rekey = prepared.rekey.has(op.uid);
      const stateIndex = new Map(opLayout.states.map((s, i) => [s.name, i]));
      // Keys are decoded only for what looks at them: re-keying, a transform, collision checks.
      const transforms = Object.keys(options.transform ?? {}).some((k) => k.startsWith(`${op.uid}/`));
      const decodesKeys = rekey || transforms || tracking;
      const decode = entryDecoder(op, { keys: decodesKeys });
      const keyText = (entry: DecodedEntry, raw: RawEntry) => (decodesKeys ? formatKey(entry.key) : describeKeyBytes(op.key!.reader!, raw.key));
      /**
       * The entry as the new job writes it. Its bytes are views of `outs`, valid until the next call,
       * unless `keep` (or a merger holds the entry): the streaming writer and the collision records copy
       * each entry before the next one is converted, a sorter or a merger keeps them.
       */
      const convert = (raw: RawEntry, keep: boolean): RawEntry | undefined => {
        const entry = decode(raw);
        if (!entry) return undefined;
        let value = entry.value;
        const transform = options.transform?.[`${op.uid}/${entry.state.state}`];
        if (transform) {
          value = transform(value, { key: entry.key, namespace: entry.namespace, mapKey: entry.mapKey });
          if (value === undefined) return undefined;
        }
        const copy = keep || mergers.has(entry.state.state);
        let key: Uint8Array, namespace: Uint8Array, mapKey: Uint8Array, valueBytes: Uint8Array;
        try {
          key = rekey ? encode(op.keyWriter!, entry.key, outs.key, copy) : raw.key;
          namespace = rekey && op.namespaceWriter ? encode(op.namespaceWriter, entry.namespace, outs.namespace, copy) : raw.namespace;
          mapKey = entry.state.type === 'map' ? encode(entry.state.mapKeyWriter!, entry.mapKey, outs.mapKey, copy) : raw.mapKey;
          valueBytes = encode(entry.state.writer!, value, outs.value, copy);
        } catch (error) {
          if (!(error instanceof EncodeError)) throw error;
          throw new EncodeError(
            `operator "${op.uid}" state "${entry.state.state}" key ${keyText(entry, raw)}: the new serializer cannot write the value${transform ? ' the transform returned' : ''} (${error.message})`,
            '',
            { cause: error },
          );
        }
        const merger = mergers.get(entry.state.state);
        if (merger) {
          merger.add(raw, { ...entry, value }, { key, namespace, mapKey });
          return undefined;
        }
        return {
          state: stateIndex.get(entry.state.state)!,
          keyGroup: rekey ? keyGroupOf(key, layout.maxParallelism) : raw.keyGroup,
          key,
          namespace,
          mapKey,
          version: FIRST_VERSION,
          value: valueBytes,
        };
      };
      const tick = () => {
        done++;
        if (onProgress && done % 1000 === 0) onProgress(done);
      };
      /** Throws for the first collision among the recorded entries: before the operator's output is kept. */
      const refuseCollisions = async () => {
        for await (const found of collisions.collisions()) throw found.error;
      };
      try {
        if (rekey) {
          // Re-keyed entries may come from any source key group: read everything, keep this range,
          // sort by the new key group in bounded memory.
          const sorter = new EntrySorter(layout.maxParallelism, options.sortBufferBytes);
          try {
            for await (const block of savepoint.blocks(source)) {
              for (const raw of block) {
                const entry = convert(raw, true);
                tick();
                if (!entry || !keyGroupInRange(entry.keyGroup, range)) continue;
                const recording = tracking ? collisions.add(raw, entry) : undefined;
                if (recording) await recording;
                const spilling = sorter.add(0, entry);
                if (spilling) await spilling;
              }
            }
            await refuseCollisions();
            for (const merger of mergers.values()) {
              for (const row of merger.rows()) {
                const keyGroup = keyGroupOf(row.next.key, layout.maxParallelism);
                if (!keyGroupInRange(keyGroup, range)) continue;
                for (const value of merger.stored(row)) {
                  const entry = { state: stateIndex.get(merger.state.state)!, keyGroup, ...row.next, version: FIRST_VERSION, value: bytesOf(merger.state.writer!, value, out) };
                  const spilling = sorter.add(0, entry);
                  if (spilling) await spilling;
                }
              }
            }
            if (sorter.groups().length) files.push(await writeFile(outDir, dataFileName(operatorIndex, range.start, range.end, part), operatorIndex, range, sorter.sorted(0)));
          } finally {
            await sorter.dispose();
          }
          continue;
        }
        // Each source file becomes one output file: entries stream through in the file's order.
        for (const [fileIndex, file] of savepoint.files(source, range).entries()) {
          const fileRange = { start: Math.max(range.start, file.range.start), end: Math.min(range.end, file.range.end) };
          const name = dataFileName(operatorIndex, fileRange.start, fileRange.end, `${part}f${fileIndex}`);
          const writer = await DataFileWriter.create(outDir, name, operatorIndex, fileRange);
          try {
            for await (const block of readDataFileBlocks(savepoint.storage, file, { range: fileRange })) {
              for (const raw of block) {
                if (!keyGroupInRange(raw.keyGroup, fileRange)) continue;
                tick();
                const entry = convert(raw, false);
                if (!entry) continue;
                const recording = tracking ? collisions.add(raw, entry) : undefined;
                if (recording) await recording;
                const flushing = writer.append(entry);
                if (flushing) await flushing;
              }
            }
            files.push(await writer.close());
          } catch (error) {
            await writer.abort();
            throw error;
          }
        }
        await refuseCollisions();
      } finally {
        await collisions.dispose();
      }
    }
    onProgress?.(done);
    return files;
  } catch (error) {
    const storage = storageFor(outDir);
    for (const f of files) await storage.remove(f.name).catch(() => undefined);
    throw error;
  }
}

async function writeFile(dir: SavepointLocation, name: string, operator: number, range: KeyGroupRange, blocks: AsyncIterable<RawEntry[]>): Promise<DataFileMetadata> {
  const writer = await DataFileWriter.create(dir, name, operator, range);
  try {
    for await (const block of blocks) {
      for (const e of block) {
        const flushing = writer.append(e);
        if (flushing) await flushing;
      }
    }
    return await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** The key groups a rewrite of `range` holds: those of the source within the range. */
export function outputKeyGroups(prepared: PreparedRewrite, range: KeyGroupRange): KeyGroupRange[] {
  return intersectRanges(prepared.sourceKeyGroups, [range]);
}

/** Rewrites `src` into `out` (which must not exist or be empty) in this thread. */
export async function rewriteSavepoint(
  src: SavepointLocation,
  out: SavepointLocation,
  options: RewriteOptions & { keyGroups?: KeyGroupRange; onProgress?(p: RewriteProgress): void; storage?: StorageOptions },
): Promise<SavepointMetadata> {
  const prepared = prepareRewrite(await openSavepoint(src, options.storage), options);
  const range = options.keyGroups ?? { start: 0, end: options.job.maxParallelism - 1 };
  const total = prepared.savepoint.metadata.files.reduce((n, f) => n + f.entries, 0);
  const writer = await SavepointWriter.create(out, { ...prepared.layout, keyGroupRanges: outputKeyGroups(prepared, range) }, options.storage);
  try {
    const files = await rewritePart(prepared, writer.storage, range, 'p', (done) => options.onProgress?.({ done, total }));
    for (const f of files) writer.addFile(f);
    return await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
