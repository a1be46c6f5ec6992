import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CorruptSavepointError, NotASavepointError, SavepointStorageError } from '@stateshift/core';
import { layoutOfJob, openSavepoint, readDataFileBlocks, SavepointWriter, writeSavepointEntries, type RawEntry } from '../src/index.js';
import { BUCKET, CREDENTIALS, startS3, type TestS3 } from './s3-server.js';
import { counts, sampleEntries, sessionEntries, sessions } from './helpers.js';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

const plain = (e: RawEntry): RawEntry => ({ ...e, key: e.key.slice(), namespace: e.namespace.slice(), mapKey: e.mapKey.slice(), value: e.value.slice() });

async function collect(location: string, uid: string, range?: { start: number; end: number }): Promise<RawEntry[]> {
  const sp = await openSavepoint(location, { s3: s3.options });
  const out: RawEntry[] = [];
  for await (const e of sp.entries(uid, { range })) out.push(plain(e));
  return out;
}

describe('savepoints on S3 (s3rver on 127.0.0.1)', () => {
  test('write and read back, whole and by key-group range', async () => {
    const location = `s3://${BUCKET}/jobs/sessions/sp-1`;
    const data = sessionEntries(40);
    await writeSavepointEntries(location, layoutOfJob(sessions), { start: 0, end: 7 }, data, { s3: s3.options });
    expect(await s3.keys('jobs/sessions/sp-1/')).toEqual(['jobs/sessions/sp-1/_metadata', 'jobs/sessions/sp-1/op0-kg0-7.dat', 'jobs/sessions/sp-1/op1-kg0-7.dat']);
    for (const { uid, entries } of data) {
      expect(await collect(location, uid)).toEqual(entries);
      expect(await collect(location, uid, { start: 2, end: 5 })).toEqual(entries.filter((e) => e.keyGroup >= 2 && e.keyGroup <= 5));
    }
    const sp = await openSavepoint(location, { s3: s3.options });
    expect(sp.dir).toBe(location);
    await sp.verify();
  });

  test('a large data file goes up as a multipart upload and reads back by ranges', async () => {
    const location = `s3://${BUCKET}/large`;
    const entries = sampleEntries(60_000);
    const writer = await SavepointWriter.create(location, layoutOfJob(counts), { s3: { ...s3.options, partSize: 5 * 1024 * 1024 } });
    const file = await writer.openDataFile('counter', { start: 0, end: 7 });
    for (const e of entries) {
      const waiting = file.append(e);
      if (waiting) await waiting;
    }
    const meta = await writer.closeDataFile(file);
    await writer.commit();
    expect(meta.size).toBeGreaterThan(5 * 1024 * 1024);
    expect((await collect(location, 'counter')).length).toBe(entries.length);
    // A rescaled instance asks for the bytes of its key groups only.
    const ranges: string[] = [];
    const client = new S3Client({ ...s3.options, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Range?: string };
        if (input.Range) ranges.push(input.Range);
        return next(args);
      },
      { step: 'initialize' },
    );
    const sp = await openSavepoint(location, { s3: { client } });
    const some: RawEntry[] = [];
    for await (const e of sp.entries('counter', { range: { start: 6, end: 6 } })) some.push(plain(e));
    expect(some).toEqual(entries.filter((e) => e.keyGroup === 6).map(plain));
    const six = meta.index.findIndex((e) => e.keyGroup === 6);
    expect(ranges).toContain(`bytes=${meta.index[six].offset}-${meta.index[six + 1].offset - 1}`);
    const fetched = ranges.map((r) => r.match(/(\d+)-(\d+)/)!).reduce((n, m) => n + Number(m[2]) - Number(m[1]) + 1, 0);
    expect(fetched).toBeLessThan(meta.size / 4);
    client.destroy();
  });

  test('a writer killed before its commit leaves no savepoint: "not a savepoint", not corrupt', async () => {
    const location = `s3://${BUCKET}/killed`;
    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/slow-writer.mjs', import.meta.url)), location, s3.endpoint], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve());
      child.on('exit', (code) => reject(new Error(`the writer exited with ${code} before writing`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const keys = await s3.keys('killed/');
    expect(keys).toContain('killed/op0-kg0-7-p0.dat');
    expect(keys).not.toContain('killed/_metadata');
    const error = await openSavepoint(location, { s3: s3.options }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotASavepointError);
    expect(error).not.toBeInstanceOf(CorruptSavepointError);
    expect(String(error)).toMatch(/s3:\/\/stateshift-test\/killed is not a savepoint: the prefix has no _metadata; it holds _lock, op0-kg0-7-p0\.dat.*writer is still running or stopped before its commit/);
    // The killed writer's lock keeps the next writer out until someone clears the location.
    await expect(SavepointWriter.create(location, layoutOfJob(counts), { s3: s3.options })).rejects.toMatchObject({ reason: 'in-use' });
  });

  test('a damaged object gives CorruptSavepointError naming the object key and offset', async () => {
    const location = `s3://${BUCKET}/damaged`;
    await writeSavepointEntries(location, layoutOfJob(sessions), { start: 0, end: 7 }, sessionEntries(20), { s3: s3.options });
    const key = 'damaged/op1-kg0-7.dat';
    const good = await s3.get(key);
    const bad = good.slice();
    bad[Math.floor(bad.length / 2)] ^= 0x10;
    await s3.put(key, bad);
    const error = await collect(location, 'windows').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptSavepointError);
    expect((error as CorruptSavepointError).file).toBe(`s3://${BUCKET}/${key}`);
    expect((error as CorruptSavepointError).offset).toBeTypeOf('number');
    expect((error as CorruptSavepointError).offset).toBeLessThanOrEqual(bad.length / 2);
    const sp = await openSavepoint(location, { s3: s3.options });
    const file = sp.files('windows')[0];
    await expect(readDataFileBlocks(location, file, { s3: s3.options, range: { start: 0, end: 7 } }).next()).resolves.toBeDefined();
    await s3.put(key, good.subarray(0, good.length - 3));
    await expect(collect(location, 'windows')).rejects.toThrow(/op1-kg0-7\.dat at offset \d+: data file is \d+ bytes but the metadata says \d+ \(truncated\)/);
  });

  test('a missing bucket, missing or wrong credentials: a typed error and nothing written', async () => {
    const layout = layoutOfJob(counts);
    const data = [{ uid: 'counter', entries: sampleEntries(3) }];
    const range = { start: 0, end: 7 };
    const noBucket = await writeSavepointEntries('s3://no-such-bucket/sp', layout, range, data, { s3: s3.options }).catch((e: unknown) => e);
    expect(noBucket).toBeInstanceOf(SavepointStorageError);
    expect((noBucket as SavepointStorageError).reason).toBe('bucket');
    expect(String(noBucket)).toMatch(/bucket "no-such-bucket" does not exist/);
    await expect(openSavepoint('s3://no-such-bucket/sp', { s3: s3.options })).rejects.toMatchObject({ reason: 'bucket' });

    const noCredentials = { endpoint: s3.endpoint, region: 'us-east-1' };
    const missing = await writeSavepointEntries(`s3://${BUCKET}/nocreds`, layout, range, data, { s3: noCredentials }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SavepointStorageError);
    expect((missing as SavepointStorageError).reason).toBe('credentials');
    expect(String(missing)).toMatch(/no AWS credentials found/);
    await expect(openSavepoint(`s3://${BUCKET}/nocreds`, { s3: noCredentials })).rejects.toMatchObject({ reason: 'credentials' });

    const wrong = { ...s3.options, credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong' } };
    const denied = await writeSavepointEntries(`s3://${BUCKET}/wrongcreds`, layout, range, data, { s3: wrong }).catch((e: unknown) => e);
    expect((denied as SavepointStorageError).reason).toBe('access');
    expect(await s3.keys('nocreds')).toEqual([]);
    expect(await s3.keys('wrongcreds')).toEqual([]);
  });

  test('no region in the options, AWS_REGION or the profile: a typed error saying where to set one, and nothing written', async () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    // A client of the user's for this server, made without a region (the SDK's "Region is missing").
    const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
    try {
      const error = await SavepointWriter.create(`s3://${BUCKET}/no-region`, layoutOfJob(counts), { s3: { client } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SavepointStorageError);
      expect(String(error)).toMatch(/s3:\/\/stateshift-test\/no-region: cannot .*: no AWS region is configured; set AWS_REGION, give the region in the options \(\{ s3: \{ region \} \}, stateshift's --s3-region\)/);
      // Storage options without a region (nor an endpoint, which defaults it to us-east-1).
      await expect(openSavepoint(`s3://${BUCKET}/no-region`, { s3: { credentials: CREDENTIALS } })).rejects.toThrow(/no AWS region is configured/);
      // AWS_DEFAULT_REGION alone is not read by the SDK: the message says so.
      process.env.AWS_DEFAULT_REGION = 'eu-west-1';
      await expect(openSavepoint(`s3://${BUCKET}/no-region`, { s3: { credentials: CREDENTIALS, forcePathStyle: true } })).rejects.toThrow(/AWS_DEFAULT_REGION is set, but the AWS SDK for JavaScript reads AWS_REGION/);
      expect(await s3.keys('no-region')).toEqual([]);
    } finally {
      client.destroy();
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  test('a prefix holding only objects under a deeper prefix is not empty: the writer refuses it', async () => {
    await s3.put('nested/mydata/file', new TextEncoder().encode('precious'));
    const error = await SavepointWriter.create(`s3://${BUCKET}/nested`, layoutOfJob(counts), { s3: s3.options }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'not-empty' });
    expect(String(error)).toMatch(/it holds "mydata\/"/);
    expect(await s3.keys('nested/')).toEqual(['nested/mydata/file']);
  });

  test('a second writer on one prefix fails at once; the first commits unharmed', async () => {
    const location = `s3://${BUCKET}/two-writers`;
    const first = await SavepointWriter.create(location, layoutOfJob(counts), { s3: s3.options });
    const file = await first.openDataFile('counter', { start: 0, end: 7 });
    for (const e of sampleEntries(10)) await file.append(e);
    await first.closeDataFile(file);
    await expect(SavepointWriter.create(location, layoutOfJob(counts), { s3: s3.options })).rejects.toMatchObject({ reason: 'in-use' });
    await first.commit();
    expect(await s3.keys('two-writers/')).toEqual(['two-writers/_metadata', 'two-writers/op0-kg0-7.dat']);
    expect((await collect(location, 'counter')).length).toBe(40);
    await expect(SavepointWriter.create(location, layoutOfJob(counts), { s3: s3.options })).rejects.toMatchObject({ reason: 'not-empty' });
    expect((await collect(location, 'counter')).length).toBe(40);
  });
});
