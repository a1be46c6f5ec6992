/**
 * Golden savepoints: test/golden/v<N> holds a savepoint of `sessions` as the release that wrote
 * format version N wrote it. Every release reads every committed version and gets the same entries,
 * and today's writer writes exactly the bytes of the newest one.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DataFileWriter, encodeMetadata, FORMAT_VERSION, openSavepoint, type RawEntry } from '../src/index.js';
import { encodeEntries, sessionEntries, sessions, tempDir } from './helpers.js';

const goldenDir = fileURLToPath(new URL('./golden', import.meta.url));
const versions = readdirSync(goldenDir).filter((n) => /^v\d+$/.test(n));

const plain = (e: RawEntry): RawEntry => ({ ...e, key: e.key.slice(), namespace: e.namespace.slice(), mapKey: e.mapKey.slice(), value: e.value.slice() });

test.each(versions)('golden savepoint %s reads as written', async (version) => {
  const sp = await openSavepoint(join(goldenDir, version));
  expect(sp.jobName).toBe(sessions.name);
  expect(sp.metadata.createdAt).toBe(1_700_000_000_000);
  for (const { uid, entries } of sessionEntries(6)) {
    const got: RawEntry[] = [];
    for await (const e of sp.entries(uid)) got.push(plain(e));
    expect(got).toEqual(entries);
    const ranged: RawEntry[] = [];
    for await (const e of sp.entries(uid, { range: { start: 3, end: 5 } })) ranged.push(plain(e));
    expect(ranged).toEqual(entries.filter((e) => e.keyGroup >= 3 && e.keyGroup <= 5));
  }
  await sp.verify();
});

test('the newest golden savepoint is of the format written today, byte for byte', async () => {
  const newest = `v${FORMAT_VERSION}`;
  expect(versions, `add test/golden/${newest} when the format version changes`).toContain(newest);
  const dir = join(goldenDir, newest);
  const sp = await openSavepoint(dir);
  expect(encodeMetadata(sp.metadata)).toEqual(new Uint8Array(await readFile(join(dir, '_metadata'))));
  const out = await tempDir();
  for (const { uid, entries } of sessionEntries(6)) {
    const [file] = sp.files(uid);
    const writer = await DataFileWriter.create(out, file.name, file.operator, file.range, { id: file.id });
    for (const e of entries) await writer.append(e);
    expect(await writer.close()).toEqual(file);
    expect(new Uint8Array(await readFile(join(out, file.name)))).toEqual(new Uint8Array(await readFile(join(dir, file.name))));
  }
});

test('entries given encoded (appendEncoded) give the same bytes as entries given one by one', async () => {
  const dir = join(goldenDir, `v${FORMAT_VERSION}`);
  const sp = await openSavepoint(dir);
  const out = await tempDir();
  for (const { uid, entries } of sessionEntries(6)) {
    const [file] = sp.files(uid);
    const writer = await DataFileWriter.create(out, file.name, file.operator, file.range, { id: file.id });
    // One, two or three entries a call, from one buffer.
    const bytes: number[] = [0];
    const encoded = encodeEntries(entries);
    for (let i = 0, at = 0; i < entries.length; i++) bytes.push((at += encodeEntries([entries[i]]).length));
    for (let i = 0; i < entries.length; ) {
      const n = Math.min(1 + (i % 3), entries.length - i);
      await writer.appendEncoded(encoded, bytes[i], bytes[i + n]);
      i += n;
    }
    expect(await writer.close()).toEqual(file);
    expect(new Uint8Array(await readFile(join(out, file.name)))).toEqual(new Uint8Array(await readFile(join(dir, file.name))));
  }
});
