/** Every command on s3:// locations, against an S3-compatible server (s3rver) on a loopback port. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { openHeapBackend } from '@stateshift/backend-heap';
import { loadJob } from '../src/load-job.js';
import { useS3 } from './s3.js';
import { fixture, ordersSavepoint, run } from './helpers.js';

const s3 = useS3();
const { url, flags } = s3;
let n = 0;
const fresh = (name: string) => `${name}-${++n}`;

/** A savepoint of the orders job written by a backend straight to S3 (restore and savepoint take storage options). */
const ordersOnS3 = (users: number) => ordersSavepoint(users, url(fresh('orders')), { storage: { s3: s3.options } });

async function dumpLines(location: string, state: string): Promise<string[]> {
  const { code, stdout, stderr } = await run('dump', location, '--operator', 'orders-per-user', '--state', state, ...flags());
  expect(code, stderr).toBe(0);
  return stdout.trim().split('\n').sort();
}

describe('commands on s3:// locations', () => {
  test('inspect, dump and check read a savepoint on S3', async () => {
    const sp = await ordersOnS3(50);
    const inspected = await run('inspect', sp, '--json', ...flags());
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ dir: sp, entries: 100, jobName: 'orders' });
    const counts = await dumpLines(sp, 'count');
    expect(counts).toHaveLength(50);
    expect(JSON.parse(counts.find((l) => l.includes('"user-7"'))!).value).toEqual({ $bigint: '7' });
    const checked = await run('check', sp, '--job', fixture('orders-v2.ts'), '--json', ...flags());
    expect(checked.code, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout).ok).toBe(true);
    const unsafe = await run('check', sp, '--job', fixture('orders-v2-int.mjs'), ...flags());
    expect(unsafe.code).toBe(1);
  });

  test('migrate S3 to S3 in two ranges and merge them: the same entries as one migration, and a backend restores it', async () => {
    const sp = await ordersOnS3(120);
    const job = fixture('orders-v2.ts');
    const whole = url(fresh('whole'));
    expect((await run('migrate', sp, '--job', job, '--out', whole, ...flags())).code).toBe(0);
    const parts = [url(fresh('part-a')), url(fresh('part-b'))];
    for (const [i, range] of ['0-20', '21-63'].entries()) {
      const { code, stderr } = await run('migrate', sp, '--job', job, '--out', parts[i], '--key-groups', range, ...flags());
      expect(code, stderr).toBe(0);
    }
    const merged = url(fresh('merged'));
    const merging = await run('merge', ...parts, '--out', merged, '--json', ...flags());
    expect(merging.code, merging.stderr).toBe(0);
    expect(JSON.parse(merging.stdout)).toMatchObject({ entries: 240, partial: false });
    for (const state of ['count', 'last-order']) expect(await dumpLines(merged, state)).toEqual(await dumpLines(whole, state));
    const backend = await openHeapBackend({ job: await loadJob(job), restoreFrom: merged, storage: { s3: s3.options } });
    expect(await backend.operator('orders-per-user').value('last-order').get('user-99')).toEqual({ orderId: 99, userId: 'user-99', createTs: 99n, amount: 0 });
    await backend.close();
  });

  test('migrate --workers 2 reads and writes S3', async () => {
    const sp = await ordersOnS3(60);
    const out = url(fresh('workers'));
    const { code, stdout, stderr } = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out, '--workers', '2', '--json', ...flags());
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ entries: 120, workers: 2 });
    expect(await dumpLines(out, 'count')).toHaveLength(60);
  });

  test('a prefix without _metadata, a missing bucket, a bad flag: exit 2 with what is wrong, nothing written', async () => {
    const before = await s3.keys();
    const empty = await run('inspect', url(fresh('nothing')), ...flags());
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('not a savepoint');
    const sp = await ordersOnS3(5);
    const written = await s3.keys();
    const noBucket = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', 's3://no-such-bucket/out', ...flags());
    expect(noBucket.code).toBe(2);
    expect(noBucket.stderr).toContain('bucket "no-such-bucket" does not exist');
    const noSource = await run('inspect', 's3://no-such-bucket/sp', ...flags());
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toContain('bucket "no-such-bucket" does not exist');
    expect(await s3.keys()).toEqual(written);
    expect(written.length).toBeGreaterThan(before.length);
    const badEndpoint = await run('inspect', sp, '--s3-endpoint', 'localhost:9000');
    expect(badEndpoint.code).toBe(2);
    expect(badEndpoint.stderr).toContain('--s3-endpoint must be an http:// or https:// URL');
  });

  test('without credentials: exit 2 naming the standard chain, nothing written', async () => {
    const sp = await ordersOnS3(5);
    const before = await s3.keys();
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    const env = { ...process.env };
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const inspect = spawnSync(process.execPath, [bin, 'inspect', sp, ...flags()], { encoding: 'utf8', env });
    expect(inspect.status).toBe(2);
    expect(inspect.stderr).toContain('no AWS credentials found');
    const migrate = spawnSync(process.execPath, [bin, 'migrate', sp, '--job', fixture('orders.mjs'), '--out', url(fresh('no-credentials')), ...flags()], { encoding: 'utf8', env });
    expect(migrate.status).toBe(2);
    expect(migrate.stderr).toContain('no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    expect(await s3.keys()).toEqual(before);
  });

  test('an output a killed migrate left (a _lock, data files): refused naming --replace; --replace runs it again; a committed savepoint is never replaced', async () => {
    const sp = await ordersOnS3(20);
    const job = fixture('orders-v2.ts');
    const out = fresh('killed');
    await s3.put(`${out}/_lock`, new TextEncoder().encode('stateshift savepoint writer: pid 1 on elsewhere since 2026-01-01T00:00:00.000Z'));
    await s3.put(`${out}/op0-kg0-63-pf0.dat`, new Uint8Array([1, 2, 3]));
    const refused = await run('migrate', sp, '--job', job, '--out', url(out), ...flags());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--replace');
    expect(await s3.keys(`${out}/`)).toEqual([`${out}/_lock`, `${out}/op0-kg0-63-pf0.dat`]);
    const again = await run('migrate', sp, '--job', job, '--out', url(out), '--replace', ...flags());
    expect(again.code, again.stderr).toBe(0);
    expect(await dumpLines(url(out), 'count')).toHaveLength(20);
    expect(await s3.keys(`${out}/`)).not.toContain(`${out}/_lock`);
    const committed = await s3.keys(`${out}/`);
    const twice = await run('migrate', sp, '--job', job, '--out', url(out), '--replace', ...flags());
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('holds a committed savepoint');
    expect(await s3.keys(`${out}/`)).toEqual(committed);
    const foreign = fresh('foreign');
    await s3.put(`${foreign}/notes.txt`, new Uint8Array([1]));
    const leftAlone = await run('migrate', sp, '--job', job, '--out', url(foreign), '--replace', ...flags());
    expect(leftAlone.code).toBe(2);
    expect(leftAlone.stderr).toContain('notes.txt, which no savepoint writer wrote');
    expect(await s3.keys(`${foreign}/`)).toEqual([`${foreign}/notes.txt`]);
  });

  test('merge --replace runs a killed merge again', async () => {
    const parts = [await ordersOnS3(10)];
    const out = fresh('merge-killed');
    await s3.put(`${out}/_lock`, new TextEncoder().encode('stateshift savepoint writer: pid 1 on elsewhere since 2026-01-01T00:00:00.000Z'));
    await s3.put(`${out}/m0-op0-kg0-63.dat`, new Uint8Array([1, 2, 3]));
    const refused = await run('merge', ...parts, '--out', url(out), ...flags());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('another savepoint writer (process 1 on elsewhere, since 2026-01-01T00:00:00.000Z) holds');
    expect(refused.stderr).toContain('A merge killed midway is run again with --replace');
    const again = await run('merge', ...parts, '--out', url(out), '--replace', ...flags());
    expect(again.code, again.stderr).toBe(0);
    expect(await dumpLines(url(out), 'count')).toHaveLength(10);
  });
});
