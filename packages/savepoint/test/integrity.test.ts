/** Every block must belong to the file and savepoint `_metadata` names, on whole and ranged reads. */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CorruptSavepointError, DataOutput, int64 } from '@stateshift/core';
import { layoutOfJob, openSavepoint, writeSavepointEntries, type RawEntry } from '../src/index.js';
import { sessionEntries, sessions, tempDir } from './helpers.js';

/** Two savepoints of one job, the same keys and sizes, other values (an older and a newer one). */
async function twoSavepoints() {
  const root = await tempDir();
  const older = sessionEntries(30);
  const newer = older.map(({ uid, entries }) => ({
    uid,
    entries: entries.map((e) => {
      if (uid !== 'counter' || e.state !== 0) return e;
      const out = new DataOutput(8);
      int64().serialize(-1n, out);
      return { ...e, value: out.toBytes() };
    }),
  }));
  expect(newer[0].entries.map((e) => e.value.length)).toEqual(older[0].entries.map((e) => e.value.length));
  await writeSavepointEntries(join(root, 'older'), layoutOfJob(sessions), { start: 0, end: 7 }, older);
  await writeSavepointEntries(join(root, 'newer'), layoutOfJob(sessions), { start: 0, end: 7 }, newer);
  return { root, older: join(root, 'older'), newer: join(root, 'newer') };
}

async function read(dir: string, range?: { start: number; end: number }): Promise<{ entries: RawEntry[]; error: unknown }> {
  const entries: RawEntry[] = [];
  try {
    const sp = await openSavepoint(dir);
    for await (const e of sp.entries('counter', { range })) entries.push(e);
    return { entries, error: undefined };
  } catch (error) {
    return { entries, error };
  }
}

describe('a stale or swapped data file fails before any of its values counts', () => {
  test.each([undefined, { start: 0, end: 7 }, { start: 3, end: 4 }, { start: 6, end: 6 }])('older file of the same name and size, range %j', async (range) => {
    const { older, newer } = await twoSavepoints();
    const name = 'op0-kg0-7.dat';
    expect((await readFile(join(older, name))).length).toBe((await readFile(join(newer, name))).length);
    await copyFile(join(older, name), join(newer, name));
    const { entries, error } = await read(newer, range);
    expect(error).toBeInstanceOf(CorruptSavepointError);
    expect((error as CorruptSavepointError).file).toBe(join(newer, name));
    expect((error as CorruptSavepointError).offset).toBeTypeOf('number');
    expect(entries).toEqual([]);
  });

  test('a block moved within its file is not the block the index names', async () => {
    const { newer } = await twoSavepoints();
    const sp = await openSavepoint(newer);
    const [file] = sp.files('counter');
    const bytes = await readFile(join(newer, file.name));
    // The blocks of the first two key groups change places; each block is intact.
    const [a, b, c] = file.index;
    const first = bytes.subarray(a.offset, b.offset);
    const second = bytes.subarray(b.offset, c.offset);
    await writeFile(join(newer, file.name), Buffer.concat([bytes.subarray(0, a.offset), second, first, bytes.subarray(c.offset)]));
    for (const range of [undefined, { start: b.keyGroup, end: b.keyGroup }]) {
      const { error } = await read(newer, range);
      expect(error).toBeInstanceOf(CorruptSavepointError);
    }
  });

  test('the data file of another operator under this name fails', async () => {
    const { newer } = await twoSavepoints();
    await copyFile(join(newer, 'op1-kg0-7.dat'), join(newer, 'op0-kg0-7.dat'));
    const { error } = await read(newer, { start: 2, end: 3 });
    expect(error).toBeInstanceOf(CorruptSavepointError);
  });
});
