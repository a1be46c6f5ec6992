/**
 * The decoder fuzz suite: random bytes, every truncation of valid bytes, and valid bytes with
 * huge counts, huge lengths and flipped bits written into them. A decoder must return a value or
 * throw a typed stateshift error (a `DecodeError`), never anything else, and never loop or allocate
 * beyond what the input can hold.
 */
import { DataInput } from '../bytes.js';
import type { Deserializer } from '../contract.js';
import { StateshiftError } from '../errors.js';
import { fail, show, type TestFn } from './common.js';
import type { FastCheckLike } from './roundtrip.js';

export interface DecoderFuzzOptions {
  test: TestFn;
  fc: FastCheckLike;
  /** Shown in every test name. */
  name: string;
  /** What is fuzzed: a serializer, a migrating reader (`readPrevious`), or any `(input) => value`. */
  reader: () => Deserializer<unknown>;
  /** Valid encodings to cut and mutate. */
  samples: Uint8Array[];
  numRuns?: number;
}

/** Byte runs that make a count or length prefix huge in the formats stateshift reads. */
export const HUGE_PREFIXES: readonly number[][] = [
  [0xff, 0xff, 0xff, 0xff, 0x0f], // varint 2^32-1
  [0xfe, 0xff, 0xff, 0xff, 0x0f], // zigzag varint 2^31-1
  [0x7f, 0xff, 0xff, 0xff], // int32 big-endian 2^31-1
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // varint 2^64-1
  [0xf9, 0xff, 0xff, 0xff, 0x0f], // compact list header: 15+ elements, size 2^32-1
  [0x80, 0x80, 0x80, 0x80], // a varint that never ends
];

function readAll(reader: Deserializer<unknown>, bytes: Uint8Array): void {
  const input = new DataInput(bytes);
  try {
    // Read values back to back until the bytes run out, as a state's stream of values would.
    for (let i = 0; i < 64 && !input.atEnd; i++) {
      const before = input.offset;
      reader.deserialize(input);
      if (input.offset === before) break;
    }
  } catch (error) {
    if (error instanceof StateshiftError) return;
    fail(`decoding ${bytes.length} bytes [${[...bytes.subarray(0, 48)].join(',')}${bytes.length > 48 ? ',...' : ''}] threw ${show(String(error))}, not a typed stateshift error`);
  }
}

export function decoderFuzzSuite(options: DecoderFuzzOptions): void {
  const { test, fc, name, samples } = options;
  const numRuns = options.numRuns ?? 300;
  const f = fc as unknown as {
    uint8Array(c?: { maxLength?: number }): unknown;
    integer(c: { min: number; max: number }): unknown;
    nat(): unknown;
    constantFrom(...v: unknown[]): unknown;
    array(a: unknown, c?: { minLength?: number; maxLength?: number }): unknown;
    tuple(...a: unknown[]): unknown;
  };

  test(`${name}: fuzz: random bytes give a value or a typed error`, () => {
    const reader = options.reader();
    fc.assert(fc.property(f.uint8Array({ maxLength: 200 }), (bytes: Uint8Array) => readAll(reader, bytes)), { numRuns });
  });

  test(`${name}: fuzz: every truncation of valid bytes gives a value or a typed error`, () => {
    const reader = options.reader();
    for (const sample of samples) for (let cut = 0; cut < sample.length; cut++) readAll(reader, sample.subarray(0, cut));
  });

  if (!samples.length) return;
  test(`${name}: fuzz: huge counts, huge lengths and flipped bits in valid bytes give a value or a typed error`, () => {
    const reader = options.reader();
    const edit = f.tuple(f.nat(), f.nat(), f.constantFrom(...HUGE_PREFIXES.map((_, i) => i), -1, -2), f.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(f.integer({ min: 0, max: samples.length - 1 }), f.array(edit, { minLength: 1, maxLength: 4 }), (which: number, edits: [number, number, number, number][]) => {
        const bytes = Uint8Array.from(samples[which]);
        if (!bytes.length) return;
        for (const [at, bit, kind, byte] of edits) {
          const pos = at % bytes.length;
          if (kind === -1) bytes[pos] ^= 1 << (bit % 8);
          else if (kind === -2) bytes[pos] = byte;
          else HUGE_PREFIXES[kind].forEach((b, i) => pos + i < bytes.length && (bytes[pos + i] = b));
        }
        readAll(reader, bytes);
      }),
      { numRuns },
    );
  });
}
