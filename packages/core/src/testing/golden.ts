/**
 * Golden bytes: a snapshot and sample values as a release wrote them, committed under test/golden/,
 * so a later release that can no longer read today's layout fails its tests.
 *
 * File layout: the framed snapshot, a varuint count, then each sample's bytes (varint length first).
 * A missing file is written when UPDATE_GOLDEN=1, and is an error otherwise.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataInput, DataOutput } from '../bytes.js';
import type { Serializer } from '../contract.js';
import { readSnapshot, snapshotToBytes, writeSnapshot } from '../registry.js';
import { decode, defaultEquals, encode, fail, type EqualsFn, type TestFn } from './common.js';

export interface GoldenCase<T = unknown> {
  serializer: () => Serializer<T>;
  samples: T[];
}

export interface GoldenSuiteOptions {
  test: TestFn;
  /** Directory of the golden files, usually `test/golden`. */
  dir: string;
  cases: Record<string, GoldenCase<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  equals?: EqualsFn;
}

export function writeGolden<T>(file: string, golden: GoldenCase<T>): void {
  const serializer = golden.serializer();
  const out = new DataOutput();
  writeSnapshot(out, serializer.snapshot());
  out.writeVarUint(golden.samples.length);
  for (const sample of golden.samples) out.writeBytes(encode(serializer, sample));
  writeFileSync(file, out.toBytes());
}

export function goldenSuite(options: GoldenSuiteOptions): void {
  const equals = options.equals ?? defaultEquals;
  for (const [name, golden] of Object.entries(options.cases)) {
    options.test(`golden ${name}: today's release reads the committed snapshot and data`, () => {
      const file = join(options.dir, `${name}.bin`);
      if (!existsSync(file)) {
        if (process.env.UPDATE_GOLDEN !== '1') fail(`${file} is missing; run the tests once with UPDATE_GOLDEN=1 to write it, then commit it`);
        mkdirSync(options.dir, { recursive: true });
        writeGolden(file, golden);
      }
      const bytes = new Uint8Array(readFileSync(file));
      const input = new DataInput(bytes);
      const start = input.offset;
      const snapshot = readSnapshot(input);
      const snapshotBytes = bytes.subarray(start, input.offset);
      equals(snapshotToBytes(snapshot), snapshotBytes, `${name}: snapshot written again differs from the golden bytes`);
      const current = golden.serializer().snapshot();
      if (current.version === snapshot.version) {
        equals(snapshotToBytes(current), snapshotBytes, `${name}: today's snapshot layout differs from the golden bytes of the same version`);
      }
      const count = input.readVarUint();
      equals(count, golden.samples.length, `${name}: sample count`);
      const reader = snapshot.restoreSerializer();
      for (let i = 0; i < count; i++) equals(decode(reader, input.readBytes(), `golden sample ${i}`), golden.samples[i], `${name}: golden sample ${i}`);
    });
  }
}
