/**
 * State descriptors and job declarations. A job declares every operator and state before anything
 * runs, so a savepoint can be checked against it offline.
 */
import type { Serializer } from './contract.js';
import { JobDefinitionError } from './errors.js';
import { MAX_PARALLELISM_LIMIT } from './key-groups.js';
import { ttl as ttlSerializer } from './builtins/ttl.js';

export interface TtlConfig {
  /** How long a value lives after it was written, in ms. */
  ttlMs: number;
  /** Whether reads refresh the timestamp too. Default "onCreateAndWrite". */
  update?: 'onCreateAndWrite' | 'onReadAndWrite';
}

export interface StateOptions<T> {
  ttl?: TtlConfig;
  /**
   * A converter from values written by the previous version (read with the stored snapshot's own
   * serializer) to this version's values. Used when the serializers are otherwise incompatible, or
   * always with `migrateAlways`. For list state it converts one element, for map state one value.
   */
  migrate?: (previous: unknown) => T;
  /** Run `migrate` even when the serializers are compatible. */
  migrateAlways?: boolean;
  /**
   * When keys (or namespaces, or map keys) migrate so that two old keys become one new key, how
   * their values become one: `(a, b) => merged`, for a value state two values, for a list state two
   * lists, for a map state the two values of one map key. Without it such a restore fails with
   * KeyCollisionError naming the keys.
   */
  mergeOnCollision?: (a: never, b: never) => unknown;
}

export interface MapStateOptions<K, V> extends StateOptions<V> {
  /** A converter for map keys written by the previous version. */
  migrateKey?: (previous: unknown) => K;
}

export type StateType = 'value' | 'list' | 'map';

/** A value state: one value per key (and namespace). `Name` keeps the name's literal type for typed lookups. */
export interface ValueStateDescriptor<T, Name extends string = string> {
  readonly type: 'value';
  readonly name: Name;
  readonly serializer: Serializer<T>;
  readonly options: StateOptions<T>;
}

export interface ListStateDescriptor<E, Name extends string = string> {
  readonly type: 'list';
  readonly name: Name;
  /** The serializer of one element. */
  readonly serializer: Serializer<E>;
  readonly options: StateOptions<E>;
}

export interface MapStateDescriptor<K, V, Name extends string = string> {
  readonly type: 'map';
  readonly name: Name;
  readonly keySerializer: Serializer<K>;
  /** The serializer of one value. */
  readonly serializer: Serializer<V>;
  readonly options: MapStateOptions<K, V>;
}

/** Any state descriptor; values typed `unknown` (tools that look states up by name get this). */
export type StateDescriptor = ValueStateDescriptor<unknown> | ListStateDescriptor<unknown> | MapStateDescriptor<unknown, unknown>;

function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`${what} needs a non-empty name`);
}

function checkSerializer(what: string, serializer: unknown): void {
  const s = serializer as Serializer<unknown> | undefined;
  if (!s || typeof s.serialize !== 'function' || typeof s.deserialize !== 'function' || typeof s.snapshot !== 'function') {
    throw new TypeError(`${what} needs a serializer (an object with serialize, deserialize and snapshot)`);
  }
}

function checkOptions(what: string, options: StateOptions<unknown>): void {
  if (options.ttl && !(Number.isFinite(options.ttl.ttlMs) && options.ttl.ttlMs > 0)) {
    throw new TypeError(`${what}: ttl.ttlMs must be a positive number of milliseconds`);
  }
  if (options.migrate !== undefined && typeof options.migrate !== 'function') throw new TypeError(`${what}: migrate must be a function`);
  if (options.mergeOnCollision !== undefined && typeof options.mergeOnCollision !== 'function') throw new TypeError(`${what}: mergeOnCollision must be a function`);
}

function names(what: string, list: unknown): readonly string[] {
  if (list === undefined) return Object.freeze([]);
  if (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || n.length === 0)) throw new TypeError(`${what} must be an array of non-empty strings`);
  return Object.freeze([...new Set(list as string[])]);
}

export function valueState<T, const Name extends string = string>(
  name: Name,
  serializer: Serializer<T>,
  options: StateOptions<T> & { mergeOnCollision?: (a: T, b: T) => T } = {},
): ValueStateDescriptor<T, Name> {
  checkName('valueState', name);
  checkSerializer(`valueState "${name}"`, serializer);
  checkOptions(`valueState "${name}"`, options);
  return Object.freeze({ type: 'value', name, serializer, options });
}

export function listState<E, const Name extends string = string>(
  name: Name,
  element: Serializer<E>,
  options: StateOptions<E> & { mergeOnCollision?: (a: E[], b: E[]) => E[] } = {},
): ListStateDescriptor<E, Name> {
  checkName('listState', name);
  checkSerializer(`listState "${name}"`, element);
  checkOptions(`listState "${name}"`, options);
  return Object.freeze({ type: 'list', name, serializer: element, options });
}

export function mapState<K, V, const Name extends string = string>(
  name: Name,
  key: Serializer<K>,
  value: Serializer<V>,
  options: MapStateOptions<K, V> & { mergeOnCollision?: (a: V, b: V) => V } = {},
): MapStateDescriptor<K, V, Name> {
  checkName('mapState', name);
  checkSerializer(`mapState "${name}" key`, key);
  checkSerializer(`mapState "${name}" value`, value);
  checkOptions(`mapState "${name}"`, options);
  return Object.freeze({ type: 'map', name, keySerializer: key, serializer: value, options });
}

/**
 * The serializer a state's values (list elements, map values) are stored with: the declared one,
 * wrapped in the TTL serializer when the state has a TTL.
 */
export function storedValueSerializer(descriptor: StateDescriptor): Serializer<unknown> {
  return descriptor.options.ttl ? ttlSerializer(descriptor.serializer) : descriptor.serializer;
}

export interface OperatorOptions<K, N, S extends readonly StateDescriptor[], Uid extends string = string> {
  uid: Uid;
  /** The serializer of the keys the operator's state is partitioned by. */
  key: Serializer<K>;
  /** The serializer of namespaces (windows, timers); none means the single default namespace. */
  namespace?: Serializer<N>;
  states: S;
  /** A converter for keys written by the previous version, when the key serializer changed incompatibly. */
  migrateKey?: (previous: unknown) => K;
  /** A converter for namespaces written by the previous version. */
  migrateNamespace?: (previous: unknown) => N;
  /** Uids this operator had before (a rename): their stored state restores into it. */
  previousUids?: readonly string[];
  /** Stored states of this operator that the job no longer keeps (left behind on restore). */
  dropStates?: readonly string[];
}

/**
 * An operator: a uid, its key (and namespace) serializer and its states. The type parameters keep the
 * key, namespace and state types, so a backend's handles are typed from the declaration.
 */
export interface OperatorDeclaration<K = unknown, N = unknown, S extends readonly StateDescriptor[] = readonly StateDescriptor[], Uid extends string = string> {
  readonly uid: Uid;
  readonly keySerializer: Serializer<K>;
  readonly namespaceSerializer: Serializer<N> | undefined;
  readonly states: S;
  readonly migrateKey?: (previous: unknown) => K;
  readonly migrateNamespace?: (previous: unknown) => N;
  readonly previousUids: readonly string[];
  readonly dropStates: readonly string[];
  state(name: string): StateDescriptor | undefined;
}

export function operator<K, N = undefined, const S extends readonly StateDescriptor[] = readonly StateDescriptor[], const Uid extends string = string>(
  options: OperatorOptions<K, N, S, Uid>,
): OperatorDeclaration<K, N, S, Uid> {
  if (!options || typeof options !== 'object') throw new TypeError('operator() needs { uid, key, states }');
  checkName('operator', options.uid);
  checkSerializer(`operator "${options.uid}" key`, options.key);
  if (options.namespace !== undefined) checkSerializer(`operator "${options.uid}" namespace`, options.namespace);
  if (!Array.isArray(options.states)) throw new TypeError(`operator "${options.uid}" needs a states array`);
  const seen = new Set<string>();
  for (const s of options.states as readonly StateDescriptor[]) {
    if (seen.has(s.name)) {
      throw new JobDefinitionError(`operator "${options.uid}" declares state "${s.name}" twice; state names must be unique per operator`);
    }
    seen.add(s.name);
  }
  const previousUids = names(`operator "${options.uid}" previousUids`, options.previousUids);
  if (previousUids.includes(options.uid)) throw new JobDefinitionError(`operator "${options.uid}" lists its own uid in previousUids; list only the uids it had before`);
  const dropStates = names(`operator "${options.uid}" dropStates`, options.dropStates);
  for (const name of dropStates) {
    if (seen.has(name)) throw new JobDefinitionError(`operator "${options.uid}" both declares state "${name}" and drops it (dropStates); keep one`);
  }
  const states = Object.freeze([...options.states]) as unknown as S;
  const byName = new Map((states as readonly StateDescriptor[]).map((s) => [s.name, s]));
  return Object.freeze({
    uid: options.uid,
    keySerializer: options.key,
    namespaceSerializer: options.namespace,
    states,
    migrateKey: options.migrateKey,
    migrateNamespace: options.migrateNamespace,
    previousUids,
    dropStates,
    state: (name: string) => byName.get(name),
  });
}

export interface JobOptions<O extends readonly OperatorDeclaration[] = readonly OperatorDeclaration[]> {
  name: string;
  /** The number of key groups, fixed for the life of the state: 1..32768. */
  maxParallelism: number;
  operators: O;
  /** Uids of stored operators that the job no longer has (their state is left behind on restore). */
  dropOperators?: readonly string[];
}

export interface JobDeclaration<O extends readonly OperatorDeclaration[] = readonly OperatorDeclaration[]> {
  readonly name: string;
  readonly maxParallelism: number;
  readonly operators: O;
  readonly dropOperators: readonly string[];
  operator(uid: string): OperatorDeclaration | undefined;
}

/** The key type of an operator declaration. */
export type KeyOf<O> = O extends OperatorDeclaration<infer K, infer _N, infer _S> ? K : unknown;
/** The namespace type of an operator declaration (`undefined` when it declares none). */
export type NamespaceOf<O> = O extends OperatorDeclaration<infer _K, infer N, infer _S> ? N : unknown;
/** The states an operator declaration declares. */
export type StatesOf<O> = O extends OperatorDeclaration<infer _K, infer _N, infer S> ? S : readonly StateDescriptor[];
/** The value type of a descriptor: the value (value state), one element (list) or one value (map). */
export type ValueOf<D> = D extends { readonly serializer: Serializer<infer T> } ? T : unknown;
/** The map-key type of a map state descriptor. */
export type MapKeyOf<D> = D extends { readonly keySerializer: Serializer<infer K> } ? K : unknown;
/** `T`, or `Fallback` when `T` is never. */
type OrElse<T, Fallback> = [T] extends [never] ? Fallback : T;
/**
 * The descriptor named `Name` among `S`, of state type `Type`. Untyped states (names typed `string`,
 * as tools see them) match no literal name: then any state of that type (values `unknown`).
 */
export type StateNamed<S extends readonly StateDescriptor[], Name extends string, Type extends StateType> = OrElse<
  Extract<S[number], { readonly name: Name; readonly type: Type }>,
  Extract<S[number], { readonly type: Type }>
>;
/** The names of the states of type `Type` among `S`. */
export type StateNames<S extends readonly StateDescriptor[], Type extends StateType> = Extract<S[number], { readonly type: Type }>['name'];
/** The operator declared with uid `Uid` in a job's operators (any of them for an untyped job, whose uids are `string`). */
export type OperatorNamed<O extends readonly OperatorDeclaration[], Uid extends string> = OrElse<Extract<O[number], { readonly uid: Uid }>, O[number]>;

const JOB_MARK = Symbol.for('stateshift.job');

export function defineJob<const O extends readonly OperatorDeclaration[]>(options: JobOptions<O>): JobDeclaration<O> {
  if (!options || typeof options !== 'object') throw new TypeError('defineJob() needs { name, maxParallelism, operators }');
  checkName('defineJob', options.name);
  const { maxParallelism } = options;
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_PARALLELISM_LIMIT) {
    throw new JobDefinitionError(
      `job "${options.name}": maxParallelism must be an integer in 1..${MAX_PARALLELISM_LIMIT}, got ${String(maxParallelism)}`,
    );
  }
  if (!Array.isArray(options.operators)) throw new TypeError(`job "${options.name}" needs an operators array`);
  const byUid = new Map<string, OperatorDeclaration>();
  for (const op of options.operators) {
    if (byUid.has(op.uid)) throw new JobDefinitionError(`job "${options.name}" declares operator uid "${op.uid}" twice; uids must be unique`);
    byUid.set(op.uid, op);
  }
  const previous = new Map<string, string>();
  for (const op of options.operators) {
    for (const old of op.previousUids ?? []) {
      if (byUid.has(old)) throw new JobDefinitionError(`job "${options.name}": operator "${op.uid}" lists previous uid "${old}", which is the uid of another operator of the job`);
      const other = previous.get(old);
      if (other) throw new JobDefinitionError(`job "${options.name}": operators "${other}" and "${op.uid}" both list previous uid "${old}"; one stored operator restores into one operator`);
      previous.set(old, op.uid);
    }
  }
  const dropOperators = names(`job "${options.name}" dropOperators`, options.dropOperators);
  for (const uid of dropOperators) {
    const owner = byUid.has(uid) ? uid : previous.get(uid);
    if (owner) throw new JobDefinitionError(`job "${options.name}" drops operator "${uid}" (dropOperators) but operator "${owner}" restores it; keep one`);
  }
  return Object.freeze({
    [JOB_MARK]: true,
    name: options.name,
    maxParallelism,
    operators: Object.freeze([...options.operators]) as unknown as O,
    dropOperators,
    operator: (uid: string) => byUid.get(uid),
  });
}

/** Whether a value is a `defineJob` result (for loading job modules). */
export function isJobDeclaration(value: unknown): value is JobDeclaration {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_MARK] === true;
}
