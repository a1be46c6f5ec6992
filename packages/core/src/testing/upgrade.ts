/**
 * The upgrade suite, after Flink's TypeSerializerUpgradeTestBase: a previous serializer with sample
 * values, a next serializer and the expected verdict. The previous snapshot and the values are taken
 * through bytes exactly as a restore would see them.
 */
import type { Compatibility, CompatibilityType, Serializer } from '../contract.js';
import { changesOf, readerFor } from '../contract.js';
import { snapshotFromBytes, snapshotToBytes } from '../registry.js';
import { resolveSchemaCompatibility } from '../resolve.js';
import { decode, defaultEquals, encode, fail, show, type EqualsFn, type TestFn } from './common.js';

export interface UpgradeSpec<P = unknown, N = unknown> {
  /** Named like "v1 > v2" or "int32 > int64". */
  name: string;
  previous: () => Serializer<P>;
  /** Values written by the previous version. */
  samples: P[];
  next: () => Serializer<N>;
  expect: CompatibilityType;
  /** The values the next version must see for each sample; default: the samples themselves. */
  migrated?: N[];
  /** Paths that must be named among the problems (incompatible) or changes (others). */
  paths?: string[];
  /** Paths that must be among the changes marked lossy. */
  lossy?: string[];
  /** Bytes written by another implementation for each sample (e.g. python3-avro), read instead of ours. */
  previousBytes?: Uint8Array[];
}

export interface UpgradeSuiteOptions {
  test: TestFn;
  name: string;
  specs: UpgradeSpec<any, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  equals?: EqualsFn;
}

/** Resolves a spec like a restore would: the previous snapshot read back from its framed bytes. */
export function resolveSpec<P, N>(spec: UpgradeSpec<P, N>): { result: Compatibility<N>; next: Serializer<N>; oldBytes: Uint8Array[] } {
  const previous = spec.previous();
  const next = spec.next();
  const storedSnapshot = snapshotFromBytes(snapshotToBytes(previous.snapshot()));
  const oldBytes = spec.previousBytes ?? spec.samples.map((s) => encode(previous, s));
  return { result: resolveSchemaCompatibility(next.snapshot(), storedSnapshot), next, oldBytes };
}

export function upgradeSuite(options: UpgradeSuiteOptions): void {
  const { test, name } = options;
  const equals = options.equals ?? defaultEquals;
  for (const spec of options.specs) {
    const title = `${name}: ${spec.name}`;

    test(`${title}: previous snapshot and data restore as written`, () => {
      const previous = spec.previous();
      const bytes = snapshotToBytes(previous.snapshot());
      const restored = snapshotFromBytes(bytes);
      equals(snapshotToBytes(restored), bytes, 'previous snapshot bytes after a read and a write');
      const reader = restored.restoreSerializer();
      const oldBytes = spec.previousBytes ?? spec.samples.map((s) => encode(previous, s));
      spec.samples.forEach((sample, i) => equals(decode(reader, oldBytes[i], 'an old value'), sample, `old value ${i} through the restored serializer`));
    });

    test(`${title}: ${spec.expect}`, () => {
      const { result, next, oldBytes } = resolveSpec(spec);
      if (result.type !== spec.expect) {
        fail(`expected ${spec.expect}, got ${result.type}: ${show(changesOf(result))}`);
      }
      const changes = changesOf(result);
      for (const path of spec.paths ?? []) {
        if (!changes.some((c) => c.path === path)) fail(`no change or problem names path "${path}"; got ${show(changes)}`);
      }
      for (const path of spec.lossy ?? []) {
        if (!changes.some((c) => c.path === path && c.lossy)) fail(`no change at "${path}" is marked lossy; got ${show(changes)}`);
      }
      for (const change of changes) {
        if (typeof change.path !== 'string' || !change.message) fail(`a change without a path or message: ${show(change)}`);
      }
      if (result.type === 'incompatible') return;
      const expected = spec.migrated ?? (spec.samples as unknown[]);
      const reader = readerFor(result, next);
      const writer = result.type === 'compatibleWithReconfiguredSerializer' ? result.serializer : next;
      oldBytes.forEach((bytes, i) => {
        const value = decode(reader, bytes, `old value ${i} through the ${result.type} reader`);
        equals(value, expected[i], `old value ${i} as the next version sees it`);
        // The value must be one the next version accepts and can read back.
        equals(decode(writer, encode(writer, value)), value, `old value ${i} written again by the next version`);
      });
    });
  }
}
