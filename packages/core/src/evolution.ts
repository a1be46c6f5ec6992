/**
 * The plumbing every format adapter's evolution rules share: a verdict that collects changes and
 * problems while two schemas are walked, the way places are named in them, and how a value is
 * described in an error. Adapters keep only their format's rules.
 */
import { EncodeError } from './errors.js';
import {
  compatibleAfterMigration,
  joinPath,
  compatibleAsIs,
  incompatible,
  type Compatibility,
  type Deserializer,
  type SchemaChange,
} from './contract.js';

/**
 * What a walk over a new schema (reader) and a stored one (writer) found: `changes` (informational,
 * some lossy), `problems` (any makes the state incompatible) and whether stored values must be
 * converted (`migrate`). Recursive types are walked once per pair (`firstVisit`).
 */
export class Verdict {
  readonly changes: SchemaChange[] = [];
  readonly problems: SchemaChange[] = [];
  migrate = false;
  private readonly visited = new Set<string>();

  change(path: string, message: string, lossy = false): void {
    this.changes.push(lossy ? { path, message, lossy: true } : { path, message });
  }

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** True the first time a pair of types (e.g. "Order<Order") is seen, so recursive types end. */
  firstVisit(key: string): boolean {
    if (this.visited.has(key)) return false;
    this.visited.add(key);
    return true;
  }

  /**
   * A new, empty verdict that has visited the pairs this one has: to try an alternative (a union
   * branch) inside a recursive type without recording anything in this one.
   */
  fork(): Verdict {
    const other = new Verdict();
    for (const key of this.visited) other.visited.add(key);
    return other;
  }

  /**
   * The verdict as a compatibility result: incompatible with the problems; else after migration
   * through `readPrevious()` when values must be converted (or `migrate` is forced, e.g. a protocol
   * change); else as is. `extra` changes are listed first.
   */
  result<T>(readPrevious: () => Deserializer<T>, options: { migrate?: boolean; extra?: SchemaChange[] } = {}): Compatibility<T> {
    if (this.problems.length) return incompatible(this.problems);
    const changes = options.extra?.length ? [...options.extra, ...this.changes] : this.changes;
    if (!this.migrate && !options.migrate) return compatibleAsIs(changes);
    return compatibleAfterMigration(readPrevious(), changes);
  }
}

/**
 * The path of a field in problems, changes and encode errors: "Order.orderId", and with the
 * number the format identifies fields by (Protobuf, Thrift): "Order.orderId (#1)".
 */
export function fieldPath(type: string, field: string, id?: number): string {
  return id === undefined ? `${type}.${field}` : `${type}.${field} (#${id})`;
}

/** A value as an error message shows it: `5n (bigint)`, `"abc" (string)`, `Map`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n (bigint)`;
  if (typeof value === 'string') return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)} (string)`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name && name !== 'Object' ? name : 'a plain object';
  }
  return `${String(value)} (${typeof value})`;
}

/**
 * Whether a value can stand for a record, struct or message: an object that is not an array, `Map`,
 * `Set`, typed array or `Date` (class instances with the fields are fine).
 */
export function isRecordValue(value: unknown): value is Record<string, unknown> {
  if (typeof value === 'object' && value !== null && value.constructor === Object) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Map) &&
    !(value instanceof Set) &&
    !ArrayBuffer.isView(value) &&
    !(value instanceof Date)
  );
}

/**
 * An `EncodeError` from inside a composite value, with `part` (a field name, "[3]", "{key}") put
 * before its path; any other error as it is. Composites catch once around their parts and track
 * only where they are, so no path is built per value.
 */
export function prefixEncodeError(error: unknown, part: string): unknown {
  if (!(error instanceof EncodeError)) return error;
  const message = error.path ? error.message.slice(error.path.length + 2) : error.message;
  return new EncodeError(message, joinPath(part, error.path), { cause: error.cause ?? error });
}
