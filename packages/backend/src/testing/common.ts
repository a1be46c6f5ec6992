/**
 * What the suite's feature files share: the injected `test`, the backend factory, the declared
 * `supports` manifest, and a session per test that opens backends and temporary directories and
 * cleans both up when the test ends.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataOutput, keyGroupOf, type BackendOpenOptions, type BackendSupports, type JobDeclaration, type Serializer, type StateBackend } from '@stateshift/core';

/** A vitest- or tape-like `test(name, fn)`. Injected so the suite does not depend on a test runner. */
export type TestFn = (name: string, fn: () => unknown) => unknown;

/**
 * Opens a fresh backend. Without `dir` it works in a new temporary directory of its own; reopening
 * with the same `dir` restarts the backend on what it keeps there.
 */
export type BackendFactory = (options: BackendOpenOptions) => Promise<StateBackend>;

export interface BackendSuiteOptions {
  test: TestFn;
  factory: BackendFactory;
  /** What the backend declares (its `supports`): tests are gated on these flags only. */
  supports: BackendSupports;
  /** Shown before every test name (e.g. "lsm (lazy)"), so variants can run in one file. */
  name?: string;
}

export interface Common {
  test: TestFn;
  factory: BackendFactory;
  supports: BackendSupports;
  /** `name` with a separator, or ''. */
  prefix: string;
}

export function commonOf(options: BackendSuiteOptions): Common {
  if (!options || typeof options.test !== 'function' || typeof options.factory !== 'function') {
    throw new TypeError('backendSuite() needs { test, factory, supports }: a test(name, fn) function and a factory returning a fresh backend');
  }
  if (!options.supports || typeof options.supports !== 'object') throw new TypeError('backendSuite() needs { supports }: the manifest the backend declares');
  return { test: options.test, factory: options.factory, supports: options.supports, prefix: options.name ? `${options.name}: ` : '' };
}

/** One test's backends and directories. */
export interface Session {
  /** Opens a backend through the factory, in a new directory unless `dir` is given. Closed when the test ends. */
  open<J extends JobDeclaration>(options: BackendOpenOptions<J>): Promise<StateBackend<J>>;
  /** A new, empty directory inside the test's temporary directory. */
  dir(): Promise<string>;
  /** A path inside the test's temporary directory that does not exist yet (for a savepoint). */
  path(name: string): string;
}

/** Wraps a test body: a session for it, and in a finally block every backend closed and every directory removed. */
export function session(common: Common, body: (s: Session) => Promise<void>): () => Promise<void> {
  return async () => {
    const root = await mkdtemp(join(tmpdir(), 'stateshift-suite-'));
    const opened: StateBackend[] = [];
    let dirs = 0;
    const s: Session = {
      async dir() {
        const dir = join(root, `dir-${dirs++}`);
        await mkdir(dir);
        return dir;
      },
      path: (name) => join(root, name),
      async open<J extends JobDeclaration>(options: BackendOpenOptions<J>) {
        const dir = options.dir ?? (await s.dir());
        const backend = await common.factory({ ...options, dir });
        opened.push(backend);
        return backend as unknown as StateBackend<J>;
      },
    };
    let failed = false;
    try {
      await body(s);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      const errors: unknown[] = [];
      for (const backend of opened) await backend.close().catch((error: unknown) => errors.push(error));
      await rm(root, { recursive: true, force: true });
      // A failing close fails the test, unless the test already failed (its error says more).
      if (!failed && errors.length) throw errors[0];
    }
  };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** The key group a key falls in, computed from its serialized bytes as every backend must. */
export function keyGroupOfKey<K>(serializer: Serializer<K>, key: K, maxParallelism: number): number {
  const out = new DataOutput();
  serializer.serialize(key, out);
  return keyGroupOf(out.toBytes(), maxParallelism);
}

/** Lets other tasks run (a macrotask turn), so interleavings really happen. */
export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A matcher for `assert.throws`/`rejects`: a coded stateshift error whose message holds every string. */
export function coded(name: string, code: string, ...mentions: string[]): (error: unknown) => boolean {
  return (error) => {
    if (!(error instanceof Error)) throw new Error(`expected ${name}, got a thrown ${typeof error}`);
    if (error.name !== name || (error as { code?: string }).code !== code) throw new Error(`expected ${name} (${code}), got ${error.name}: ${error.message}`);
    for (const m of mentions) if (!error.message.includes(m)) throw new Error(`expected the ${name} message to mention ${JSON.stringify(m)}: ${error.message}`);
    return true;
  };
}

/** A matcher for a misuse TypeError whose message holds every string. */
export function misuse(...mentions: string[]): (error: unknown) => boolean {
  return (error) => {
    if (!(error instanceof TypeError)) throw new Error(`expected a TypeError, got ${String(error)}`);
    for (const m of mentions) if (!error.message.includes(m)) throw new Error(`expected the TypeError message to mention ${JSON.stringify(m)}: ${error.message}`);
    return true;
  };
}
