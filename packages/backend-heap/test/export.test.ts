/**
 * writeRowsByKeyGroup frames rows in table order, a window of key groups at a time, and hands them
 * to the writer by key group: the file must be the one a stable sort by key group writes, whatever
 * the window size (down to one key group a window, and key groups larger than a window).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, expect, test } from 'vitest';
import { DataOutput } from '@stateshift/core';
import { DataFileWriter, type RawEntry } from '@stateshift/savepoint';
import { encodeEntries } from '@stateshift/savepoint/testing';
import { writeRowsByKeyGroup } from '../src/export.js';
import type { Row } from '../src/table.js';

const dir = await mkdtemp(join(tmpdir(), 'stateshift-heap-export-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const id = new Uint8Array(16).fill(3);
const MAX_PARALLELISM = 8;
const range = { start: 0, end: MAX_PARALLELISM - 1 };

/** A row's entries: one per value in its data (none for an empty list), keyed by the row's key. */
const entriesOf = (row: Row, values: Uint8Array[]): RawEntry[] =>
  values.map((value) => ({ state: 0, keyGroup: row.keyGroup, key: new Uint8Array([row.key as number]), namespace: new Uint8Array(0), mapKey: new Uint8Array(0), version: 1, value }));

function frameRow(out: DataOutput, row: Row, data: unknown): void {
  encodeEntries(entriesOf(row, data as Uint8Array[]), out);
}

async function fileBytes(name: string, write: (file: DataFileWriter) => Promise<void>): Promise<Uint8Array> {
  const file = await DataFileWriter.create(dir, name, 0, range, { id });
  await write(file);
  await file.close();
  return new Uint8Array(await readFile(join(dir, name)));
}

let run = 0;
test('rows are written by key group, in table order within one, for any window size', async () => {
  const rows = fc.array(fc.record({ keyGroup: fc.integer({ min: 0, max: MAX_PARALLELISM - 1 }), values: fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 3 }) }), { maxLength: 80 });
  await fc.assert(
    fc.asyncProperty(rows, fc.constantFrom(1, 30, 200, 1 << 24), async (input, stagingBytes) => {
      run++;
      const table: Row[] = input.map((r, i) => ({ keyGroup: r.keyGroup, key: i, namespace: undefined, data: undefined }));
      const data = input.map((r) => r.values);
      const sorted = table.map((row, i) => ({ row, i })).sort((a, b) => a.row.keyGroup - b.row.keyGroup);
      const expected = await fileBytes(`expected-${run}`, async (file) => {
        for (const { row, i } of sorted) for (const e of entriesOf(row, data[i])) await file.append(e);
      });
      const got = await fileBytes(`got-${run}`, (file) => writeRowsByKeyGroup(file, table, data, MAX_PARALLELISM, frameRow, stagingBytes));
      expect(got).toEqual(expected);
    }),
    { numRuns: 80 },
  );
});
