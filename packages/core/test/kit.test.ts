// The conformance kit must fail on broken serializers; otherwise passing it proves nothing.
import * as fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  compatibleAfterMigration,
  float64,
  int32,
  int64,
  string,
  type DataInput,
  type DataOutput,
  type Serializer,
  type SerializerSnapshot,
} from '../src/index.js';
import { sampleValue, serializerSuite, upgradeSuite, valuesSuite, type UpgradeSpec } from '../src/testing/index.js';

/** Runs a suite's tests outside vitest and returns which ones failed. */
function failuresOf(define: (t: (name: string, fn: () => unknown) => void) => void): string[] {
  const failed: string[] = [];
  define((name, fn) => {
    try {
      fn();
    } catch {
      failed.push(name);
    }
  });
  return failed;
}

/** int32 whose serializer drops the sign: round trips break for negatives. */
const signless = (): Serializer<number> => ({
  kind: 'core.int32',
  serialize: (v: number, out: DataOutput) => out.writeVarUint(Math.abs(v)),
  deserialize: (input: DataInput) => input.readVarUint(),
  snapshot: () => int32().snapshot(),
});

/** A string serializer whose values do not self-delimit (it reads to the end). */
const greedy = (): Serializer<string> => ({
  kind: 'core.string',
  serialize: (v: string, out: DataOutput) => out.writeRaw(new TextEncoder().encode(v)),
  deserialize: (input: DataInput) => new TextDecoder().decode(input.readRaw(input.remaining)),
  snapshot: () => string().snapshot(),
});

test('serializerSuite fails a serializer that loses information', () => {
  const failed = failuresOf((t) =>
    serializerSuite({ test: t, fc, name: 'signless', factory: signless, samples: [1, -1], arbitrary: (f) => (f as typeof fc).integer() }),
  );
  expect(failed).toContain('signless: samples round-trip');
});

test('serializerSuite fails a serializer whose values do not self-delimit', () => {
  const failed = failuresOf((t) => serializerSuite({ test: t, name: 'greedy', factory: greedy, samples: ['ab', 'c'] }));
  expect(failed).toContain('greedy: values self-delimit when written back to back');
});

test('serializerSuite fails a serializer whose copy differs from its round trip', () => {
  // float64 values are copied as they are; this one writes undefined as 0, so its copies differ.
  const zeroing = (): Serializer<number | undefined> => ({
    kind: 'core.float64',
    serialize: (v: number | undefined, out: DataOutput) => out.writeFloat64(v ?? 0),
    deserialize: (input: DataInput) => input.readFloat64(),
    snapshot: () => float64().snapshot(),
  });
  const failed = failuresOf((t) => serializerSuite({ test: t, name: 'zeroing', factory: zeroing, samples: [1.5], reshaped: [undefined] }));
  expect(failed).toEqual(['zeroing: a copy (copierOf) equals the round trip']);
});

test('serializerSuite passes a correct serializer', () => {
  expect(failuresOf((t) => serializerSuite({ test: t, fc, name: 'int32', factory: int32, samples: [1, -1], arbitrary: (f) => (f as typeof fc).integer() }))).toEqual([]);
});

/** A snapshot that claims a migration but whose reader yields values the next serializer refuses. */
function lyingMigration(): Serializer<bigint> {
  const snapshot: SerializerSnapshot<bigint> = {
    ...int64().snapshot(),
    kind: 'core.int64',
    version: 1,
    packageName: '@stateshift/core',
    write: () => {},
    restoreSerializer: () => int64(),
    describe: () => ({ type: 'int64' }),
    resolveCompatibility: () =>
      compatibleAfterMigration({ deserialize: (input) => input.readVarInt() as unknown as bigint }, [{ path: '', message: 'widened' }]),
  };
  return { ...int64(), kind: 'core.int64', serialize: int64().serialize.bind(int64()), deserialize: int64().deserialize.bind(int64()), snapshot: () => snapshot };
}

const run = (spec: UpgradeSpec) => failuresOf((t) => upgradeSuite({ test: t, name: 'kit', specs: [spec] }));

test('upgradeSuite fails a migration whose values the next serializer rejects', () => {
  expect(run({ name: 'lying', previous: int32, samples: [5], next: lyingMigration, expect: 'compatibleAfterMigration', migrated: [5n] })).toEqual([
    'kit: lying: compatibleAfterMigration',
  ]);
});

test('upgradeSuite fails a wrong expected verdict', () => {
  expect(run({ name: 'wrong', previous: int32, samples: [5], next: string, expect: 'compatibleAsIs' })).toEqual(['kit: wrong: compatibleAsIs']);
});

test('upgradeSuite fails when a problem does not name the expected path', () => {
  expect(run({ name: 'path', previous: int32, samples: [5], next: string, expect: 'incompatible', paths: ['Order.orderId'] })).toEqual([
    'kit: path: incompatible',
  ]);
});

test('upgradeSuite fails when migrated values differ from the expected ones', () => {
  expect(run({ name: 'values', previous: int32, samples: [5], next: int64, expect: 'compatibleAfterMigration', migrated: [6n] })).toEqual([
    'kit: values: compatibleAfterMigration',
  ]);
});

/** A serializer that accepts anything and always reads back the ordinary sample: it drops data silently. */
const lenient = (): Serializer<unknown> => ({
  kind: 'test.lenient',
  serialize: () => {},
  deserialize: () => sampleValue(),
  snapshot: () => string().snapshot() as unknown as SerializerSnapshot<unknown>,
});

test('valuesSuite fails a serializer that accepts wrong shapes without an error', () => {
  const failed = failuresOf((t) => valuesSuite({ test: t, name: 'lenient', factory: lenient }));
  expect(failed).toContain('lenient: values: a plain object where a map is declared is an EncodeError naming scores');
  expect(failed).toContain('lenient: values: a Map where a record is declared is an EncodeError naming the value');
  expect(failed).toContain('lenient: values: a string with a lone surrogate is an EncodeError naming name');
  expect(failed).toContain('lenient: values: a field the nested record does not declare is an EncodeError naming child');
  expect(failed).toContain('lenient: values: empty and absent values read back in the shared value model');
  expect(failed).not.toContain('lenient: values: ordinary values read back in the shared value model');
});
