/**
 * `@stateshift/savepoint/testing`: the corruption cases of a savepoint (every byte flipped, every
 * truncation) and a runner that puts each through any reader (the offline reader, a backend's
 * restore) and checks that each gives a typed stateshift error or the original values; and entries framed
 * as a data block holds them (`encodeEntries`), for tests of `DataFileWriter.appendEncoded`.
 *
 * @module @stateshift/savepoint/testing
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { CorruptSavepointError, DataInput, DataOutput, StateshiftError, type KeyGroupRange } from '@stateshift/core';
import type { RawEntry } from '../data-file.js';
import { openSavepoint } from '../reader.js';
import type { SavepointLocation, StorageOptions } from '../storage/resolve.js';

export interface CorruptionCase {
  /** The object damaged, by name in the savepoint. */
  file: string;
  kind: 'flip' | 'truncate';
  /** The byte flipped, or the length the file is cut to. */
  position: number;
  /** The file's bytes with the damage. */
  bytes: Uint8Array;
  /** e.g. "_metadata: byte 17 ^ 0xff". */
  label: string;
}

export interface CorruptionOptions {
  /** XOR masks each byte is flipped with, one case each. Default [0x01, 0xff]. */
  masks?: number[];
  /** Also every truncation length from 0 to size - 1. Default true. */
  truncations?: boolean;
  /** Damage only every k-th byte position (a sample, for slow readers). Default 1: every byte. */
  every?: number;
}

/** Every flip of every byte (by each mask) and every truncation of one file. */
export function* corruptionCases(file: string, original: Uint8Array, options: CorruptionOptions = {}): Generator<CorruptionCase> {
  const every = options.every ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new TypeError(`corruptionCases() needs { every } as a positive integer, got ${String(every)}`);
  for (const mask of options.masks ?? [0x01, 0xff]) {
    for (let position = 0; position < original.length; position += every) {
      const bytes = original.slice();
      bytes[position] ^= mask;
      yield { file, kind: 'flip', position, bytes, label: `${file}: byte ${position} ^ 0x${mask.toString(16)}` };
    }
  }
  if (options.truncations ?? true) {
    for (let position = 0; position < original.length; position += every) {
      yield { file, kind: 'truncate', position, bytes: original.subarray(0, position), label: `${file}: cut to ${position} bytes` };
    }
  }
}

export interface CorruptionSuiteOptions extends CorruptionOptions {
  /** A savepoint directory; each case damages one file in place, and the file is put back after it. */
  dir: string;
  /** The files to damage, by name (say `_metadata` and one data file). */
  files: string[];
  /** Reads every value (a restore, a dump) and returns something to compare with the undamaged read. */
  read(dir: string): Promise<unknown>;
  /** An error that counts as refusing loudly. Default: any StateshiftError. */
  isTyped?(error: unknown): boolean;
}

export interface CorruptionReport {
  cases: number;
  /** Cases refused with a typed error. */
  typedErrors: number;
  /** Cases that read the original values (the damage was in bytes that do not count). */
  original: number;
  /** Cases that gave other values or an untyped error: each one a bug. */
  failures: { label: string; problem: string }[];
  /** One line: "corruption suite: N cases, T typed errors, O original values, F failures". */
  summary: string;
}

/** Runs every corruption case of `files` through `read`. */
export async function runCorruptionSuite(options: CorruptionSuiteOptions): Promise<CorruptionReport> {
  const isTyped = options.isTyped ?? ((error: unknown) => error instanceof StateshiftError);
  const expected = await options.read(options.dir);
  const report: CorruptionReport = { cases: 0, typedErrors: 0, original: 0, failures: [], summary: '' };
  for (const file of options.files) {
    const path = join(options.dir, file);
    const original = new Uint8Array(await readFile(path));
    try {
      for (const c of corruptionCases(file, original, options)) {
        report.cases++;
        await writeFile(path, c.bytes);
        try {
          const got = await options.read(options.dir);
          if (isDeepStrictEqual(got, expected)) report.original++;
          else report.failures.push({ label: c.label, problem: 'read other values without an error' });
        } catch (error) {
          if (isTyped(error)) report.typedErrors++;
          else report.failures.push({ label: c.label, problem: `untyped error: ${String(error)}` });
        }
      }
    } finally {
      await writeFile(path, original);
    }
  }
  report.summary = `corruption suite: ${report.cases} cases, ${report.typedErrors} typed errors, ${report.original} original values, ${report.failures.length} failures`;
  return report;
}

/** One stored entry decoded with the savepoint's own snapshots. */
export interface StoredValue {
  operator: string;
  state: string;
  keyGroup: number;
  key: unknown;
  namespace: unknown;
  mapKey: unknown;
  version: number;
  value: unknown;
}

/**
 * Every entry of every operator and state (or of `range` only, as a rescaled instance reads),
 * decoded with the snapshots stored in the savepoint: the offline reader's view of a savepoint.
 */
export async function readStoredValues(location: SavepointLocation, options: StorageOptions & { range?: KeyGroupRange } = {}): Promise<StoredValue[]> {
  const savepoint = await openSavepoint(location, options);
  const out: StoredValue[] = [];
  const decode = (reader: { deserialize(input: DataInput): unknown }, bytes: Uint8Array) => {
    const input = new DataInput(bytes);
    const value = reader.deserialize(input);
    input.expectEnd('a stored value');
    return value;
  };
  for (const op of savepoint.operators) {
    const key = op.key.restoreSerializer();
    const namespace = op.namespace?.restoreSerializer();
    const states = op.states.map((s) => ({
      name: s.name,
      mapKey: s.mapKey?.restoreSerializer(),
      versions: new Map(s.versions.map((v) => [v.id, v.snapshot.restoreSerializer()])),
    }));
    for await (const e of savepoint.entries(op.uid, { range: options.range })) {
      const state = states[e.state];
      const reader = state?.versions.get(e.version);
      if (!state || !reader) {
        throw new CorruptSavepointError(`an entry of operator "${op.uid}" names state ${e.state} version ${e.version}, which the metadata does not list`, savepoint.dir);
      }
      out.push({
        operator: op.uid,
        state: state.name,
        keyGroup: e.keyGroup,
        key: decode(key, e.key),
        namespace: namespace ? decode(namespace, e.namespace) : undefined,
        mapKey: state.mapKey ? decode(state.mapKey, e.mapKey) : undefined,
        version: e.version,
        value: decode(reader, e.value),
      });
    }
  }
  return out;
}

/** Entries as a data block holds them, back to back (what `DataFileWriter.appendEncoded` takes), written into `out`. */
export function encodeEntries(entries: readonly RawEntry[], out = new DataOutput(256)): Uint8Array {
  for (const e of entries) {
    out.writeVarUint(e.state);
    out.writeVarUint(e.keyGroup);
    for (const part of [e.key, e.namespace, e.mapKey]) {
      out.writeVarUint(part.length);
      out.writeRaw(part);
    }
    out.writeVarUint(e.version);
    out.writeVarUint(e.value.length);
    out.writeRaw(e.value);
  }
  return out.toBytes();
}
