/**
 * DataFileWriter.appendEncoded: entries given as block bytes write the same file as the same
 * entries given as objects, and bytes that are not whole, ordered entries are refused whole.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { DataFileWriter, type RawEntry } from '../src/index.js';
import { encodeEntries, tempDir } from './helpers.js';

const id = new Uint8Array(16).fill(7);
const range = { start: 0, end: 15 };
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });
const entry = fc.record({
  state: fc.integer({ min: 0, max: 300 }),
  keyGroup: fc.integer({ min: 0, max: 15 }),
  key: bytes(40),
  namespace: bytes(3),
  mapKey: bytes(3),
  version: fc.integer({ min: 1, max: 200 }),
  // Past 64 bytes the copy takes another path, past 127 the length another byte.
  value: fc.oneof(bytes(8), bytes(300)),
});

async function fileOf(dir: string, name: string, write: (w: DataFileWriter) => Promise<void>): Promise<{ bytes: Uint8Array; meta: unknown }> {
  const writer = await DataFileWriter.create(dir, name, 0, range, { id });
  await write(writer);
  const meta = await writer.close();
  return { bytes: new Uint8Array(await readFile(join(dir, name))), meta: { ...meta, name: undefined } };
}

test('entries given encoded, several a call, write the file that the same entries given one by one write', async () => {
  const dir = await tempDir();
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(entry, { maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1 }), async (list, calls) => {
      const entries: RawEntry[] = [...list].sort((a, b) => a.keyGroup - b.keyGroup);
      run++;
      const one = await fileOf(dir, `one-${run}`, async (w) => {
        for (const e of entries) await w.append(e);
      });
      const encoded = await fileOf(dir, `encoded-${run}`, async (w) => {
        const buffer = encodeEntries(entries);
        let at = 0;
        for (let i = 0, call = 0; i < entries.length; call++) {
          const n = Math.min(calls[call % calls.length], entries.length - i);
          const end = at + encodeEntries(entries.slice(i, i + n)).length;
          await w.appendEncoded(buffer, at, end);
          at = end;
          i += n;
        }
      });
      expect(encoded.bytes).toEqual(one.bytes);
      expect(encoded.meta).toEqual(one.meta);
    }),
    { numRuns: 60 },
  );
});

test('bytes that are not whole entries, or whose key groups are out of range or order, add nothing', async () => {
  const dir = await tempDir();
  const e = (keyGroup: number, value = [1, 2, 3]): RawEntry => ({ state: 0, keyGroup, key: new Uint8Array([9]), namespace: new Uint8Array(0), mapKey: new Uint8Array(0), version: 1, value: new Uint8Array(value) });
  const good = [e(1), e(2), e(2, [4])];
  const expected = await fileOf(dir, 'expected', async (w) => {
    for (const x of good) await w.append(x);
  });
  const got = await fileOf(dir, 'got', async (w) => {
    await w.appendEncoded(encodeEntries([good[0]]), 0, encodeEntries([good[0]]).length);
    // A whole entry, then one cut short: the whole one is not added either.
    const cut = encodeEntries([e(1), e(2)]);
    expect(() => w.appendEncoded(cut, 0, cut.length - 1)).toThrow(/appendEncoded\(bytes, 0, \d+\) was not given whole encoded entries .*the bytes given at offset \d+/);
    // An entry of key group 0 after key group 1 (already written), and one outside 0-15.
    const back = encodeEntries([e(2), e(0)]);
    expect(() => w.appendEncoded(back, 0, back.length)).toThrow(new RangeError('entries of data file got must come in key-group order: 0 after 2'));
    const outside = encodeEntries([e(2), e(16)]);
    expect(() => w.appendEncoded(outside, 0, outside.length)).toThrow(/key group 16 is outside the range 0-15 of data file got/);
    expect(() => w.appendEncoded(outside, 3, 2)).toThrow(RangeError);
    const rest = encodeEntries(good.slice(1));
    await w.appendEncoded(rest, 0, rest.length);
  });
  expect(got.bytes).toEqual(expected.bytes);
  expect(got.meta).toEqual(expected.meta);
});

test('an entry refused by append (state index past 32 bits) leaves nothing in the file', async () => {
  const dir = await tempDir();
  const e = (state: number, keyGroup: number): RawEntry => ({ state, keyGroup, key: new Uint8Array([1]), namespace: new Uint8Array(0), mapKey: new Uint8Array(0), version: 1, value: new Uint8Array([2]) });
  const expected = await fileOf(dir, 'expected', async (w) => {
    await w.append(e(0, 3));
  });
  const got = await fileOf(dir, 'got', async (w) => {
    expect(() => w.append(e(2 ** 32, 2))).toThrow(/state index 4294967296 and schema version 1 must be 32-bit unsigned integers/);
    await w.append(e(0, 3));
  });
  expect(got.bytes).toEqual(expected.bytes);
  expect(got.meta).toEqual(expected.meta);
});
