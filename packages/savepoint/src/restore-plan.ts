/**
 * The restore rules, decided once and the same way for every backend and for the dry-run:
 *
 * 0. The savepoint is of the same job (job name), unless `allowJobNameChange`.
 * 1. Every operator (and state) in the savepoint must exist in the new job, by uid or a declared
 *    previous uid, unless dropped by declaration (`dropOperators`, `dropStates`) or
 *    `allowNonRestoredState`.
 * 2. maxParallelism must match. A partial savepoint restores only into an instance whose key
 *    groups it holds, unless `allowPartialSavepoint`.
 * 3. Every state resolves its serializers (key, namespace, map key, each stored value version)
 *    before any data is read; every incompatible state without a converter is reported at once.
 * 4. A state whose type changed (value to list) is incompatible.
 *
 * The plan carries, per serializer, the reader that turns previous bytes into new values, so a
 * backend only has to apply it.
 */
import {
  adviceForRole,
  changesOf,
  convertedBy,
  ConverterError,
  DataOutput,
  DuplicatePackageError,
  EncodeError,
  IncompatibleStateError,
  MissingAdapterError,
  readerFor,
  resolveSchemaCompatibility,
  RestoreError,
  storedValueSerializer,
  TtlSerializer,
  TtlSnapshot,
  writerFor,
  type Compatibility,
  type CompatibilityType,
  type Deserializer,
  type IncompatibleState,
  type JobDeclaration,
  type KeyGroupRange,
  type OperatorDeclaration,
  type SchemaChange,
  type Serializer,
  type SerializerSnapshot,
  type StateDescriptor,
  type StateType,
  type TtlValue,
} from '@stateshift/core';
import { formatRanges, subtractRanges } from './key-group-ranges.js';
import { keyGroupRangesOf, type OperatorMetadata, type SavepointMetadata, type StateMetadata } from './metadata.js';

export interface RestoreOptions {
  /** Restore even though operators or states of the savepoint are not in the new job (they are dropped). */
  allowNonRestoredState?: boolean;
  /** The key groups the restoring instance serves; default all of them. */
  keyGroupRange?: KeyGroupRange;
  /** Restore a partial savepoint although it lacks key groups the instance serves (they start empty). */
  allowPartialSavepoint?: boolean;
  /** Restore a savepoint whose job name differs: the user says it is the same job, renamed. */
  allowJobNameChange?: boolean;
  /** The clock that stamps values when TTL is turned on or a converter runs on a TTL state. Default `Date.now`. */
  now?: () => number;
}

export type SerializerRole = 'key' | 'namespace' | 'mapKey' | 'value';

/** How one stored serializer (one schema version of it) is read under the new job. */
export interface SerializerPlan {
  role: SerializerRole;
  /** Schema version id, for values. */
  version?: number;
  /** The verdict of the new serializer on the stored snapshot; undefined when it could not be checked (its adapter missing or loaded twice). */
  result?: Compatibility<unknown>;
  /** A user converter turns the old values. */
  converter: boolean;
  /** Reads previous bytes as new values; undefined when the serializer cannot be restored. */
  reader?: Deserializer<unknown>;
  /** The bytes must be rewritten (migration, converter); for keys this means re-keying. */
  rewrite: boolean;
  changes: SchemaChange[];
  problems: SchemaChange[];
}

export type StateStatus = 'restored' | 'new' | 'dropped';
/** Why stored state is left behind: declared (`dropOperators`, `dropStates`) or the blunt switch. */
export type DropReason = 'declared' | 'allowNonRestoredState' | 'undeclared';
export type StateVerdict = CompatibilityType | 'new' | 'dropped';

export interface StatePlan {
  operator: string;
  state: string;
  status: StateStatus;
  type: StateType;
  previousType?: StateType;
  descriptor?: StateDescriptor;
  metadata?: StateMetadata;
  /** Index of the state in the savepoint operator's states (restored and dropped states). */
  savepointIndex?: number;
  /** Dropped states: why. */
  dropReason?: DropReason;
  mapKey?: SerializerPlan;
  /** One plan per stored schema version. */
  values: SerializerPlan[];
  /** The overall verdict: the worst of the value and map-key verdicts, or converter-made migration. */
  verdict: StateVerdict;
  converterUsed: boolean;
  /** Values must be rewritten. */
  migrate: boolean;
  /** Map keys must be rewritten (re-keyed). */
  rekeyMapKeys: boolean;
  /** The serializer to write this state's stored values with after the restore (TTL-wrapped if TTL). */
  writer?: Serializer<unknown>;
  /** The serializer to write map keys with after the restore. */
  mapKeyWriter?: Serializer<unknown>;
  problems: { role: string; path: string; message: string }[];
}

export type OperatorStatus = 'matched' | 'onlyInSavepoint' | 'onlyInJob';

export interface OperatorPlan {
  /** The uid in the job (for operators only in the savepoint, the stored uid). */
  uid: string;
  status: OperatorStatus;
  /** The stored uid when the operator was renamed (`previousUids`); read its entries by this uid. */
  previousUid?: string;
  /** Operators only in the savepoint: why their state is left behind. */
  dropReason?: DropReason;
  declaration?: OperatorDeclaration;
  metadata?: OperatorMetadata;
  /** Index in the savepoint's operators. */
  savepointIndex?: number;
  key?: SerializerPlan;
  namespace?: SerializerPlan;
  /** Keys or namespaces change bytes: entries are re-keyed (and their key groups recomputed). */
  rekey: boolean;
  keyWriter?: Serializer<unknown>;
  namespaceWriter?: Serializer<unknown>;
  states: StatePlan[];
}

export interface RestorePlan {
  jobName: string;
  savepointJobName: string;
  maxParallelism: number;
  savepointMaxParallelism: number;
  /** The key groups the savepoint holds, and those the instance needs that it lacks. */
  savepointKeyGroups: KeyGroupRange[];
  missingKeyGroups: KeyGroupRange[];
  allowNonRestoredState: boolean;
  operators: OperatorPlan[];
  /** Whether a restore would go ahead. */
  ok: boolean;
  /** Why not, as the error a restore throws (the first rule broken). */
  error?: Error;
}

const severity: Record<CompatibilityType, number> = {
  compatibleAsIs: 0,
  compatibleWithReconfiguredSerializer: 1,
  compatibleAfterMigration: 2,
  incompatible: 3,
};

type Converter = (previous: unknown) => unknown;
/** Why a stored serializer could not be checked at all: its adapter is not loaded, or is loaded twice. */
type Unresolvable = MissingAdapterError | DuplicatePackageError;

/** Decides a restore of `savepoint` into `job` without touching any data. */
export function planRestore(savepoint: SavepointMetadata, job: JobDeclaration, options: RestoreOptions = {}): RestorePlan {
  const unresolvable: Unresolvable[] = [];
  const operators: OperatorPlan[] = [];
  const allow = !!options.allowNonRestoredState;
  const declaredDrops = new Set(job.dropOperators ?? []);
  const restoredFrom = new Map<string, string[]>();
  savepoint.operators.forEach((metadata, savepointIndex) => {
    const declaration = job.operator(metadata.uid) ?? job.operators.find((op) => (op.previousUids ?? []).includes(metadata.uid));
    if (!declaration) {
      const dropReason: DropReason = declaredDrops.has(metadata.uid) ? 'declared' : allow ? 'allowNonRestoredState' : 'undeclared';
      operators.push({
        uid: metadata.uid,
        status: 'onlyInSavepoint',
        dropReason,
        metadata,
        savepointIndex,
        rekey: false,
        states: metadata.states.map((s, i) => droppedState(metadata.uid, s, i, dropReason)),
      });
      return;
    }
    restoredFrom.set(declaration.uid, [...(restoredFrom.get(declaration.uid) ?? []), metadata.uid]);
    const plan = planOperator(declaration, metadata, savepointIndex, unresolvable, options);
    if (metadata.uid !== declaration.uid) plan.previousUid = metadata.uid;
    operators.push(plan);
  });
  for (const declaration of job.operators) {
    if (restoredFrom.has(declaration.uid)) continue;
    operators.push({
      uid: declaration.uid,
      status: 'onlyInJob',
      declaration,
      rekey: false,
      keyWriter: declaration.keySerializer,
      namespaceWriter: declaration.namespaceSerializer,
      states: declaration.states.map((d) => newState(declaration.uid, d)),
    });
  }
  const savepointKeyGroups = keyGroupRangesOf(savepoint);
  const needed = options.keyGroupRange ?? { start: 0, end: job.maxParallelism - 1 };
  const plan: RestorePlan = {
    jobName: job.name,
    savepointJobName: savepoint.jobName,
    maxParallelism: job.maxParallelism,
    savepointMaxParallelism: savepoint.maxParallelism,
    savepointKeyGroups,
    missingKeyGroups: savepoint.maxParallelism === job.maxParallelism ? subtractRanges([needed], savepointKeyGroups) : [],
    allowNonRestoredState: allow,
    operators,
    ok: true,
  };
  const doubled = [...restoredFrom].filter(([, from]) => from.length > 1);
  plan.error = doubled.length
    ? new RestoreError(
        doubled.map(([uid, from]) => `the savepoint holds operator "${uid}" under ${from.length} uids (${from.map((u) => `"${u}"`).join(', ')}), and all restore into it`).join('; ') +
          '. Keep one of them in previousUids, and drop the other with dropOperators.',
      )
    : firstError(plan, unresolvable, options);
  plan.ok = !plan.error;
  return plan;
}

/** Throws the error a restore fails with, if any. */
export function assertRestorable(plan: RestorePlan): void {
  if (plan.error) throw plan.error;
}

function firstError(plan: RestorePlan, unresolvable: Unresolvable[], options: RestoreOptions): Error | undefined {
  if (plan.jobName !== plan.savepointJobName && !options.allowJobNameChange) {
    return new RestoreError(
      `the savepoint is of job "${plan.savepointJobName}" but the job is "${plan.jobName}". A savepoint restores into the job that wrote it; ` +
        'if this is the same job under a new name, restore with allowJobNameChange (stateshift: --allow-job-name-change).',
    );
  }
  if (plan.maxParallelism !== plan.savepointMaxParallelism) {
    return new RestoreError(
      `the savepoint was taken with maxParallelism ${plan.savepointMaxParallelism}, the job declares ${plan.maxParallelism}. ` +
        `maxParallelism fixes the key groups; keep ${plan.savepointMaxParallelism}, or rescale the savepoint offline first ` +
        '(rescaleSavepoint in @stateshift/savepoint, or stateshift migrate with a job of the new maxParallelism).',
    );
  }
  if (plan.missingKeyGroups.length && !options.allowPartialSavepoint) {
    const needed = options.keyGroupRange ?? { start: 0, end: plan.maxParallelism - 1 };
    return new RestoreError(
      `the savepoint is partial: it holds key groups ${formatRanges(plan.savepointKeyGroups)} of 0-${plan.maxParallelism - 1}, ` +
        `but this instance serves ${formatRanges([needed])} and key groups ${formatRanges(plan.missingKeyGroups)} would start empty. ` +
        'Join the partial savepoints first (mergeSavepoints, or stateshift merge), or restore with allowPartialSavepoint.',
    );
  }
  {
    const operators = plan.operators.filter((op) => op.dropReason === 'undeclared').map((op) => `"${op.uid}"`);
    const states = plan.operators
      .filter((op) => op.status === 'matched')
      .flatMap((op) => op.states.filter((s) => s.dropReason === 'undeclared').map((s) => `"${op.uid}"/"${s.state}"`));
    if (operators.length || states.length) {
      const parts = [
        operators.length ? `operator${operators.length > 1 ? 's' : ''} ${operators.join(', ')}` : '',
        states.length ? `state${states.length > 1 ? 's' : ''} ${states.join(', ')}` : '',
      ].filter(Boolean);
      return new RestoreError(
        `the savepoint holds ${parts.join(' and ')} that the new job does not declare. ` +
          "Declare them: a renamed operator lists its old uid (operator({ uid: 'new-uid', previousUids: ['old-uid'], ... })); " +
          "state left behind on purpose is named in defineJob({ dropOperators: ['uid'] }) or operator({ dropStates: ['name'] }); " +
          'or restore with allowNonRestoredState to drop everything undeclared.',
      );
    }
  }
  if (unresolvable.length) return unresolvable[0];
  const incompatible: IncompatibleState[] = plan.operators.flatMap((op) =>
    op.states
      .filter((s) => s.verdict === 'incompatible')
      .map((s) => groupProblems(op.uid, s.state, s.problems))
      .flat(),
  );
  if (incompatible.length) return new IncompatibleStateError(incompatible);
  return undefined;
}

function groupProblems(operator: string, state: string, problems: StatePlan['problems']): IncompatibleState[] {
  const byRole = new Map<string, IncompatibleState>();
  for (const p of problems) {
    let entry = byRole.get(p.role);
    if (!entry) byRole.set(p.role, (entry = { operator, state, role: p.role, problems: [] }));
    entry.problems.push({ path: p.path, message: p.message });
  }
  return [...byRole.values()];
}

function planOperator(declaration: OperatorDeclaration, metadata: OperatorMetadata, savepointIndex: number, unresolvable: Unresolvable[], options: RestoreOptions): OperatorPlan {
  const where = (role: string) => ({ operator: declaration.uid, state: '', role, now: options.now });
  const key = planSerializer('key', declaration.keySerializer, metadata.key, declaration.migrateKey, false, unresolvable, where('key'));
  let namespace: SerializerPlan | undefined;
  if (metadata.namespace && declaration.namespaceSerializer) {
    namespace = planSerializer('namespace', declaration.namespaceSerializer, metadata.namespace, declaration.migrateNamespace, false, unresolvable, where('namespace'));
  } else if (metadata.namespace || declaration.namespaceSerializer) {
    namespace = unrestorable(
      'namespace',
      metadata.namespace
        ? 'the savepoint has a namespace serializer but the operator declares none; declare the namespace serializer again'
        : 'the operator declares a namespace serializer but the savepoint has none; state written without a namespace cannot gain one',
    );
  }
  const operatorProblems = [key, namespace].filter((p): p is SerializerPlan => !!p && !p.reader);
  const states: StatePlan[] = [];
  metadata.states.forEach((stateMeta, index) => {
    const descriptor = declaration.state(stateMeta.name);
    const dropReason: DropReason = (declaration.dropStates ?? []).includes(stateMeta.name) ? 'declared' : options.allowNonRestoredState ? 'allowNonRestoredState' : 'undeclared';
    states.push(descriptor ? planState(declaration.uid, descriptor, stateMeta, index, unresolvable, options) : droppedState(declaration.uid, stateMeta, index, dropReason));
  });
  for (const descriptor of declaration.states) {
    if (!metadata.states.some((s) => s.name === descriptor.name)) states.push(newState(declaration.uid, descriptor));
  }
  // An unreadable key or namespace makes every restored state of the operator unrestorable; a
  // rewritten one makes each a migration, whatever its values need.
  if (operatorProblems.length) {
    for (const state of states) {
      if (state.status !== 'restored') continue;
      state.verdict = 'incompatible';
      for (const p of operatorProblems) state.problems.push(...p.problems.map((c) => ({ role: p.role, path: c.path, message: c.message })));
    }
  } else if (key.rewrite || namespace?.rewrite) {
    for (const state of states) if (state.status === 'restored' && state.verdict !== 'incompatible') state.verdict = 'compatibleAfterMigration';
  }
  return {
    uid: declaration.uid,
    status: 'matched',
    declaration,
    metadata,
    savepointIndex,
    key,
    namespace,
    rekey: !!(key.rewrite || namespace?.rewrite),
    keyWriter: key.result ? writerFor(key.result, declaration.keySerializer) : declaration.keySerializer,
    namespaceWriter:
      declaration.namespaceSerializer && namespace?.result ? writerFor(namespace.result, declaration.namespaceSerializer) : declaration.namespaceSerializer,
    states,
  };
}

function planState(
  operator: string,
  descriptor: StateDescriptor,
  metadata: StateMetadata,
  savepointIndex: number,
  unresolvable: Unresolvable[],
  options: RestoreOptions,
): StatePlan {
  const where = (role: string) => ({ operator, state: descriptor.name, role, now: options.now });
  const base = { operator, state: descriptor.name, status: 'restored' as const, type: descriptor.type, previousType: metadata.type, descriptor, metadata, savepointIndex };
  if (descriptor.type !== metadata.type) {
    return {
      ...base,
      values: [],
      verdict: 'incompatible',
      converterUsed: false,
      migrate: false,
      rekeyMapKeys: false,
      problems: [
        {
          role: 'type',
          path: '',
          message: `the state was a ${metadata.type} state and is now declared as a ${descriptor.type} state; keep its type, or give the new state another name`,
        },
      ],
    };
  }
  const stored = storedValueSerializer(descriptor);
  const values = metadata.versions.map((v) => ({
    ...planSerializer('value', stored, v.snapshot, descriptor.options.migrate, !!descriptor.options.migrateAlways, unresolvable, where('value')),
    version: v.id,
  }));
  let mapKey: SerializerPlan | undefined;
  if (descriptor.type === 'map') {
    mapKey = planSerializer('mapKey', descriptor.keySerializer, metadata.mapKey!, descriptor.options.migrateKey, false, unresolvable, where('mapKey'));
  }
  const parts = mapKey ? [...values, mapKey] : values;
  const problems = parts.flatMap((p) =>
    p.problems.map((c) => ({ role: p.version === undefined || metadata.versions.length === 1 ? p.role : `${p.role} v${p.version}`, path: c.path, message: c.message })),
  );
  const converterUsed = parts.some((p) => p.converter);
  let verdict: StateVerdict;
  if (problems.length) verdict = 'incompatible';
  else if (converterUsed || parts.some((p) => p.rewrite)) verdict = 'compatibleAfterMigration';
  else verdict = parts.reduce<CompatibilityType>((worst, p) => (severity[p.result!.type] > severity[worst] ? p.result!.type : worst), 'compatibleAsIs');
  const newest = values[values.length - 1];
  return {
    ...base,
    mapKey,
    values,
    verdict,
    converterUsed,
    migrate: values.some((v) => v.rewrite),
    rekeyMapKeys: !!mapKey?.rewrite,
    writer: newest?.result && !newest.converter ? writerFor(newest.result, stored) : stored,
    mapKeyWriter: descriptor.type === 'map' ? (mapKey?.result && !mapKey.converter ? writerFor(mapKey.result, descriptor.keySerializer) : descriptor.keySerializer) : undefined,
    problems,
  };
}

function newState(operator: string, descriptor: StateDescriptor): StatePlan {
  return {
    operator,
    state: descriptor.name,
    status: 'new',
    type: descriptor.type,
    descriptor,
    values: [],
    verdict: 'new',
    converterUsed: false,
    migrate: false,
    rekeyMapKeys: false,
    writer: storedValueSerializer(descriptor),
    mapKeyWriter: descriptor.type === 'map' ? descriptor.keySerializer : undefined,
    problems: [],
  };
}

function droppedState(operator: string, metadata: StateMetadata, savepointIndex: number, dropReason: DropReason): StatePlan {
  return {
    operator,
    state: metadata.name,
    status: 'dropped',
    dropReason,
    type: metadata.type,
    previousType: metadata.type,
    metadata,
    savepointIndex,
    values: [],
    verdict: 'dropped',
    converterUsed: false,
    migrate: false,
    rekeyMapKeys: false,
    problems: [],
  };
}

function unrestorable(role: SerializerRole, message: string): SerializerPlan {
  return { role, converter: false, rewrite: false, changes: [], problems: [{ path: '', message }] };
}

/**
 * Resolves one stored serializer against the new one. A converter is used when the serializers are
 * incompatible (or always, with `always`); the old values are then read with the stored snapshot's own
 * serializer and passed through it.
 */
function planSerializer(
  role: SerializerRole,
  next: Serializer<unknown>,
  previous: SerializerSnapshot<unknown>,
  converter: Converter | undefined,
  always: boolean,
  unresolvable: Unresolvable[],
  where: ConverterPlace,
): SerializerPlan {
  let result: Compatibility<unknown>;
  try {
    result = resolveSchemaCompatibility(next.snapshot(), previous, { now: where.now });
  } catch (error) {
    if (!(error instanceof MissingAdapterError || error instanceof DuplicatePackageError)) throw error;
    unresolvable.push(error);
    return unrestorable(role, error.message);
  }
  if (converter && (always || result.type === 'incompatible')) {
    return {
      role,
      result,
      converter: true,
      reader: converterReader(previous, next, converter, where),
      rewrite: true,
      changes: [
        { path: '', message: convertedBy(role) },
        ...(result.type === 'incompatible'
          ? result.problems.map((p) => ({ path: p.path, message: 'changed incompatibly; the converter handles it' }))
          : changesOf(result)),
      ],
      problems: [],
    };
  }
  if (result.type === 'incompatible') {
    const problems = result.problems.map((p) => ({ path: p.path, message: adviceForRole(p.message, role) }));
    return { role, result, converter: false, rewrite: false, changes: [], problems };
  }
  return {
    role,
    result,
    converter: false,
    reader: readerFor(result, next),
    rewrite: result.type === 'compatibleAfterMigration',
    changes: changesOf(result),
    problems: [],
  };
}

/** Where a converter runs, for its errors; and the clock for TTL. */
interface ConverterPlace {
  operator: string;
  state: string;
  role: string;
  now?: () => number;
}

/**
 * Old bytes through the stored snapshot's serializer, then the converter; TTL timestamps are kept.
 * The converter's output is checked by writing it with the new serializer: a value it cannot write
 * (a missing field, NaN for an int, a number for a bigint) fails here, on every path that reads
 * through this reader (restores eager and lazy, offline rewrites, the dry-run's sample), never later.
 */
function converterReader(previous: SerializerSnapshot<unknown>, next: Serializer<unknown>, convert: Converter, where: ConverterPlace): Deserializer<unknown> {
  const old = previous.restoreSerializer();
  const previousTtl = previous instanceof TtlSnapshot;
  const nextTtl = next instanceof TtlSerializer;
  const now = where.now ?? Date.now;
  const check = new DataOutput(256);
  const name = where.role === 'value' ? 'migrate' : where.role === 'mapKey' ? 'migrateKey' : where.role === 'key' ? 'migrateKey (operator)' : 'migrateNamespace';
  const place = where.state ? `operator "${where.operator}" state "${where.state}"` : `operator "${where.operator}"`;
  const run = (value: unknown): unknown => {
    try {
      return convert(value);
    } catch (error) {
      throw new ConverterError(`${place}: the ${name} converter threw on a stored value: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  };
  return {
    deserialize(input) {
      const value = old.deserialize(input);
      let converted: unknown;
      if (previousTtl) {
        const { timestamp, value: inner } = value as TtlValue<unknown>;
        converted = nextTtl ? { timestamp, value: run(inner) } : run(inner);
      } else converted = nextTtl ? { timestamp: now(), value: run(value) } : run(value);
      check.reset();
      try {
        next.serialize(converted, check);
      } catch (error) {
        if (!(error instanceof EncodeError)) throw error;
        throw new ConverterError(
          `${place}: the ${name} converter returned a value the new ${where.role === 'value' ? 'value' : where.role} serializer cannot write (${error.message}); ` +
            'a converter must return a complete value of the new type',
          { cause: error },
        );
      }
      return converted;
    },
  };
}
