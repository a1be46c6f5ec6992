/**
 * Every error stateshift throws on purpose is a `StateshiftError` with a stable `code`. Codes stay the
 * same across major versions; messages may improve. Misuse of an API (a wrong argument type) throws a
 * plain `TypeError` without a code.
 */
import { convertersAdvice } from './converter-advice.js';

export type ErrorCode =
  | 'STATESHIFT_DECODE_ERROR'
  | 'STATESHIFT_ENCODE_ERROR'
  | 'STATESHIFT_INCOMPATIBLE'
  | 'STATESHIFT_CORRUPT_SAVEPOINT'
  | 'STATESHIFT_NOT_A_SAVEPOINT'
  | 'STATESHIFT_SAVEPOINT_STORAGE'
  | 'STATESHIFT_MISSING_ADAPTER'
  | 'STATESHIFT_DUPLICATE_PACKAGE'
  | 'STATESHIFT_SNAPSHOT_VERSION'
  | 'STATESHIFT_INVALID_JOB'
  | 'STATESHIFT_RESTORE_ERROR'
  | 'STATESHIFT_SCHEMA_ERROR'
  | 'STATESHIFT_CLOSED'
  | 'STATESHIFT_LOCKED'
  | 'STATESHIFT_KEY_GROUP_NOT_SERVED'
  | 'STATESHIFT_KEY_COLLISION'
  | 'STATESHIFT_CONVERTER_ERROR';

export interface StateshiftErrorOptions {
  cause?: unknown;
}

export class StateshiftError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: StateshiftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bytes that cannot be read: past the end, an overlong varint, invalid UTF-8, a value out of range. */
export class DecodeError extends StateshiftError {
  /** Offset in the buffer being read where the problem was found. */
  readonly offset: number;

  constructor(message: string, offset: number, options?: StateshiftErrorOptions) {
    super('STATESHIFT_DECODE_ERROR', `${message} (at byte offset ${offset})`, options);
    this.offset = offset;
  }
}

/** A value a serializer cannot write: wrong type, out of range, missing required field. */
export class EncodeError extends StateshiftError {
  /** Where in the value, e.g. "Order.orderId" or "[3]". */
  readonly path: string;

  constructor(message: string, path = '', options?: StateshiftErrorOptions) {
    super('STATESHIFT_ENCODE_ERROR', path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}

/** A schema that a serializer factory rejects (bad Avro schema, unknown Protobuf type, ...). */
export class SchemaError extends StateshiftError {
  constructor(message: string, options?: StateshiftErrorOptions) {
    super('STATESHIFT_SCHEMA_ERROR', message, options);
  }
}

/** One state that cannot be restored, with every problem found in it. */
export interface IncompatibleState {
  operator: string;
  state: string;
  /** Which serializer of the state: "key", "namespace", "mapKey", "value" or "type". */
  role: string;
  problems: { path: string; message: string }[];
}

/**
 * The new job cannot read the state of the old one. Thrown before any data is read, listing every
 * incompatible state of the whole job at once.
 */
export class IncompatibleStateError extends StateshiftError {
  readonly states: IncompatibleState[];

  constructor(states: IncompatibleState[], options?: StateshiftErrorOptions) {
    const lines = states.flatMap((s) =>
      s.problems.map((p) => `  - operator "${s.operator}", state "${s.state}" (${s.role}): ${p.path ? `${p.path}: ` : ''}${p.message}`),
    );
    // A state with problems in several serializers (key and value) is listed once per serializer.
    const count = new Set(states.map((s) => JSON.stringify([s.operator, s.state]))).size;
    // Only the converters that help with these problems, once each: a changed key needs the operator's.
    const converters = convertersAdvice(states.map((s) => s.role));
    const remedy = converters.length ? `Keep the old schema, make the change compatible, or ${converters.join(', or ')}.` : 'Keep the old declaration of the state.';
    super('STATESHIFT_INCOMPATIBLE', `${count} state${count === 1 ? ' is' : 's are'} incompatible with the savepoint:\n${lines.join('\n')}\n${remedy}`, options);
    this.states = states;
  }
}

/** A savepoint file that is damaged, truncated or not a savepoint. Never a wrong value instead. */
export class CorruptSavepointError extends StateshiftError {
  readonly file: string;
  readonly offset: number | undefined;

  constructor(message: string, file: string, offset?: number, options?: StateshiftErrorOptions) {
    super('STATESHIFT_CORRUPT_SAVEPOINT', `${file}${offset === undefined ? '' : ` at offset ${offset}`}: ${message}`, options);
    this.file = file;
    this.offset = offset;
  }
}

/**
 * A location that holds no savepoint at all: nothing there, a file, a directory or prefix without
 * `_metadata` (a database directory, a writer that never committed). Damage is CorruptSavepointError.
 */
export class NotASavepointError extends StateshiftError {
  /** The path or URL given. */
  readonly location: string;

  constructor(message: string, location: string, options?: StateshiftErrorOptions) {
    super('STATESHIFT_NOT_A_SAVEPOINT', `${location} is not a savepoint: ${message}`, options);
    this.location = location;
  }
}

/** Why savepoint storage refused: see `SavepointStorageError.reason`. */
export type SavepointStorageProblem = 'credentials' | 'access' | 'bucket' | 'in-use' | 'not-empty' | 'io';

/**
 * Savepoint storage that cannot be used as asked: no credentials, access denied, no such bucket,
 * another writer at the location, a location that is not empty, or an I/O failure of the store.
 */
export class SavepointStorageError extends StateshiftError {
  readonly location: string;
  readonly reason: SavepointStorageProblem;

  constructor(reason: SavepointStorageProblem, message: string, location: string, options?: StateshiftErrorOptions) {
    super('STATESHIFT_SAVEPOINT_STORAGE', `${location}: ${message}`, options);
    this.location = location;
    this.reason = reason;
  }
}

/** A snapshot whose kind no imported package reads; says which package to install. */
export class MissingAdapterError extends StateshiftError {
  readonly kind: string;
  readonly packageName: string;

  constructor(kind: string, packageName: string, what: string) {
    super(
      'STATESHIFT_MISSING_ADAPTER',
      `cannot ${what}: its serializer snapshot is of kind "${kind}", which no loaded package reads. ` +
        `Install ${packageName} (npm install ${packageName}) and import it before restoring.`,
    );
    this.kind = kind;
    this.packageName = packageName;
  }
}

/**
 * Two copies of one stateshift package in one program: the job's serializers come from one, the
 * code that read the savepoint from another (a job module installed in another project than the
 * program or CLI that loads it). Neither copy can compare the other's schemas, so nothing is checked.
 */
export class DuplicatePackageError extends StateshiftError {
  readonly packageName: string;
  /** Where the copy that made the job's serializer is installed, when it says. */
  readonly jobCopy: string | undefined;
  /** Where the copy that read the savepoint is installed, when it says. */
  readonly savepointCopy: string | undefined;

  constructor(kind: string, packageName: string, jobCopy: string | undefined, savepointCopy: string | undefined) {
    const where = jobCopy && savepointCopy && jobCopy !== savepointCopy ? ` (the job's at ${jobCopy}, the one that read the savepoint at ${savepointCopy})` : '';
    super(
      'STATESHIFT_DUPLICATE_PACKAGE',
      `cannot check this state: the job's serializer (${kind}) comes from another copy of ${packageName} than the one that read the savepoint${where}, ` +
        "and neither copy can compare the other's schemas. Load the job module and the program that restores it from one installation: " +
        'install them in one project, or run npm dedupe.',
    );
    this.packageName = packageName;
    this.jobCopy = jobCopy;
    this.savepointCopy = savepointCopy;
  }
}

/** A snapshot written by a newer layout than this release reads. */
export class SnapshotVersionError extends StateshiftError {
  readonly kind: string;
  readonly version: number;

  constructor(kind: string, version: number, readable: number, packageName: string) {
    super(
      'STATESHIFT_SNAPSHOT_VERSION',
      `snapshot of kind "${kind}" has layout version ${version}, but the installed ${packageName} reads layouts up to ${readable}. ` +
        `Upgrade ${packageName} to the release that wrote this savepoint or a newer one.`,
    );
    this.kind = kind;
    this.version = version;
  }
}

/** A job declaration that cannot run: duplicate uids or state names, maxParallelism out of range. */
export class JobDefinitionError extends StateshiftError {
  constructor(message: string, options?: StateshiftErrorOptions) {
    super('STATESHIFT_INVALID_JOB', message, options);
  }
}

/** A restore the rules refuse: operators missing from the job, maxParallelism changed, state type changed. */
export class RestoreError extends StateshiftError {
  constructor(message: string, options?: StateshiftErrorOptions) {
    super('STATESHIFT_RESTORE_ERROR', message, options);
  }
}

/** A backend (or a handle of it) used after `close()`. */
export class BackendClosedError extends StateshiftError {
  constructor(message: string, options?: StateshiftErrorOptions) {
    super('STATESHIFT_CLOSED', message, options);
  }
}

/** A backend's directory is already open in another backend, in this process or another one. */
export class BackendLockedError extends StateshiftError {
  constructor(message: string, options?: StateshiftErrorOptions) {
    super('STATESHIFT_LOCKED', message, options);
  }
}

/** A key whose key group this backend instance does not serve (it belongs to another instance). */
export class KeyGroupError extends StateshiftError {
  readonly keyGroup: number;

  constructor(message: string, keyGroup: number, options?: StateshiftErrorOptions) {
    super('STATESHIFT_KEY_GROUP_NOT_SERVED', message, options);
    this.keyGroup = keyGroup;
  }
}

/**
 * Keys (or namespaces, or map keys) that migrate so that two old keys become one new key: the restore
 * refuses rather than keep one value and lose the other, unless the state gives `mergeOnCollision`.
 */
export class KeyCollisionError extends StateshiftError {
  readonly operator: string;
  readonly state: string;
  constructor(operator: string, state: string, message: string, options?: StateshiftErrorOptions) {
    super('STATESHIFT_KEY_COLLISION', message, options);
    this.operator = operator;
    this.state = state;
  }
}

/** A `migrate` converter that threw, or returned a value the new serializer cannot write. */
export class ConverterError extends StateshiftError {
  constructor(message: string, options?: StateshiftErrorOptions) {
    super('STATESHIFT_CONVERTER_ERROR', message, options);
  }
}
