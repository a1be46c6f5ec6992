// A list whose elements a savepoint stores at two schema versions (a hand-written savepoint: the
// backends write a list at one version) is restored joined at the newest version, by a copy and in place.
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DataOutput, defineJob, int32, int64, keyGroupOf, listState, operator, string } from '@stateshift/core';
import { layoutOfJob, SavepointWriter } from '@stateshift/savepoint';
import { openLsmBackend } from '../src/index.js';
import { tempDir } from './helpers.js';

const bytes = (write: (out: DataOutput) => void) => {
  const out = new DataOutput(16);
  write(out);
  return out.toBytes();
};

test('a list stored at two schema versions is restored at the newest, by a copy and in place', async () => {
  const root = await tempDir();
  const wide = listState('l', int64());
  const op = operator({ uid: 'op', key: string(), states: [wide] });
  const job = defineJob({ name: 'mixed', maxParallelism: 8, operators: [op] });
  // Version 1 of the list held int32 elements, version 2 int64: one key has one element of each.
  const layout = layoutOfJob(job);
  const state = layout.operators[0].states[0];
  state.versions = [{ id: 1, snapshot: int32().snapshot() }, { id: 2, snapshot: int64().snapshot() }];
  const key = bytes((o) => string().serialize('k', o));
  const keyGroup = keyGroupOf(key, 8);
  const empty = new Uint8Array(0);
  const sp = join(root, 'sp');
  const writer = await SavepointWriter.create(sp, layout);
  const file = await writer.openDataFile('op', { start: 0, end: 7 });
  await file.append({ state: 0, keyGroup, key, namespace: empty, mapKey: empty, version: 1, value: bytes((o) => int32().serialize(7, o)) });
  await file.append({ state: 0, keyGroup, key, namespace: empty, mapKey: empty, version: 2, value: bytes((o) => int64().serialize(8n, o)) });
  await writer.closeDataFile(file);
  await writer.commit();

  for (const restore of ['copy', 'in-place'] as const) {
    const backend = await openLsmBackend({ job, dir: join(root, restore), restoreFrom: sp, restore });
    expect(backend.operator(op).list(wide).get('k'), restore).toEqual([7n, 8n]);
    await backend.copying?.done;
    await backend.checkpoint();
    expect(backend.operator(op).list(wide).get('k'), restore).toEqual([7n, 8n]);
    await backend.close();
  }
});
