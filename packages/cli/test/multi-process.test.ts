/**
 * A job run as several OS processes, and an offline migration split across processes, with S3
 * (s3rver on a loopback port) as the shared medium: what the README's "Running a job as several
 * processes" and "A migration across machines" describe.
 */
import { fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { openHeapBackend } from '@stateshift/backend-heap';
import { loadJob } from '../src/load-job.js';
import { useS3 } from './s3.js';
import { fixture, run, tempDir } from './helpers.js';

const s3 = useS3();
const { url, flags } = s3;
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** Runs one instance process of the counter job (fixtures/instance.mjs); resolves with what it reports. */
function instance<T>(task: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(fixture('instance.mjs'), [JSON.stringify({ ...task, storage: { s3: s3.options } })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let reply: { ok: boolean; result?: T; message?: string } | undefined;
    child.on('message', (m) => (reply = m as typeof reply));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (reply?.ok) resolve(reply.result as T);
      else reject(new Error(reply?.message ?? `instance exited with code ${code} without a result`));
    });
  });
}

describe('a job run as several processes', () => {
  test('2 processes each take a partial savepoint to S3; merged, it restores into 3 processes with every key present and correct', async () => {
    const { event, owner } = (await import(fixture('instance.mjs'))) as {
      event(i: number, keys: number): { key: string; amount: bigint };
      owner(key: string, parallelism: number): number;
    };
    const events = 3000;
    const keys = 200;
    const ran = await Promise.all(
      [0, 1].map(async (index) =>
        instance<{ handled: number; range: { start: number; end: number } }>({
          mode: 'run',
          dir: join(await tempDir(), `run-${index}`),
          parallelism: 2,
          index,
          events,
          keys,
          savepoint: url(`job/instance-${index}`),
        }),
      ),
    );
    // Each process handled its own share and nothing else.
    expect(ran.map((r) => r.handled).reduce((a, b) => a + b, 0)).toBe(events);
    expect(ran.map((r) => r.range)).toEqual([
      { start: 0, end: 63 },
      { start: 64, end: 127 },
    ]);
    for (const index of [0, 1]) {
      const part = await run('inspect', url(`job/instance-${index}`), '--json', ...flags());
      expect(JSON.parse(part.stdout)).toMatchObject({ partial: true, keyGroupRanges: [ran[index].range] });
    }

    // Each instance recorded its own position: the merged savepoint records none.
    const merged = await run('merge', url('job/instance-0'), url('job/instance-1'), '--out', url('job/merged'), '--drop-position', '--json', ...flags());
    expect(merged.code, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout)).toMatchObject({ partial: false });

    const restored = await Promise.all(
      [0, 1, 2].map(async (index) =>
        instance<{ values: Record<string, { count: string; sum: string; last: string[] }> }>({
          mode: 'read',
          dir: join(await tempDir(), `read-${index}`),
          restoreFrom: url('job/merged'),
          parallelism: 3,
          index,
          keys,
        }),
      ),
    );
    const expected: Record<string, { count: string; sum: string; last: string[] }> = {};
    for (let i = 0; i < events; i++) {
      const { key, amount } = event(i, keys);
      const e = (expected[key] ??= { count: '0', sum: '0', last: [] });
      e.count = String(BigInt(e.count) + 1n);
      e.sum = String(BigInt(e.sum) + amount);
      e.last.push(String(amount));
    }
    const seen = restored.flatMap((r) => Object.keys(r.values));
    expect(new Set(seen).size).toBe(seen.length);
    expect(Object.assign({}, ...restored.map((r) => r.values))).toEqual(expected);
    // The three processes split the keys as a partitioner in front of them would.
    for (const [index, r] of restored.entries()) for (const key of Object.keys(r.values)) expect(owner(key, 3)).toBe(index);
  });
});

/** Runs the built CLI in its own process (not awaiting synchronously: s3rver runs in this one). */
function cli(args: string[], env: Record<string, string> = {}): { done: Promise<{ code: number | null; signal: string | null; stderr: string }>; kill(): void } {
  const child = spawn(process.execPath, [bin, ...args, ...flags()], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { done, kill: () => child.kill('SIGKILL') };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

async function dumpAll(location: string): Promise<string[]> {
  const lines: string[] = [];
  for (const state of ['count', 'last-order']) {
    const { code, stdout, stderr } = await run('dump', location, '--operator', 'orders-per-user', '--state', state, ...flags());
    expect(code, stderr).toBe(0);
    lines.push(...stdout.trim().split('\n'));
  }
  return lines.sort();
}

describe('a migration across processes', () => {
  test('migrate --key-groups in 4 processes S3 to S3, one SIGKILLed midway and run again, then merge: equal to a one-process migration', async () => {
    const job = await loadJob(fixture('orders.mjs'));
    const backend = await openHeapBackend({ job });
    const op = backend.operator<string>('orders-per-user');
    for (let i = 0; i < 2000; i++) {
      op.value('count').set(`user-${i}`, BigInt(i));
      op.value('last-order').set(`user-${i}`, { orderId: `o-${i}`, userId: `user-${i}`, createTs: BigInt(i) });
    }
    const source = url('migration/source');
    await backend.savepoint(source, { storage: { s3: s3.options } });
    await backend.close();
    const v2 = fixture('orders-v2-stall.mjs');
    const ranges = ['0-15', '16-31', '32-47', '48-63'];
    const parts = ranges.map((_, i) => url(`migration/part-${i}`));

    // The process of range 2 stops for good in the middle of its migration; it is killed there.
    const mark = join(await tempDir(), 'stalled');
    const processes = ranges.map((range, i) =>
      cli(['migrate', source, '--job', v2, '--out', parts[i], '--key-groups', range], i === 2 ? { STATESHIFT_TEST_STALL_AFTER: '50', STATESHIFT_TEST_STALL_MARK: mark } : {}),
    );
    await until(() => existsSync(mark));
    processes[2].kill();
    const results = await Promise.all(processes.map((p) => p.done));
    expect(results.map((r) => r.code)).toEqual([0, 0, null, 0]);
    expect(results[2].signal).toBe('SIGKILL');
    // It left its lock and the data file it finished, and no _metadata: not a savepoint.
    const left = await s3.keys('migration/part-2/');
    expect(left).toContain('migration/part-2/_lock');
    expect(left).not.toContain('migration/part-2/_metadata');
    expect((await run('inspect', parts[2], ...flags())).stderr).toContain('not a savepoint');
    const merging = await run('merge', ...parts, '--out', url('migration/merged'), ...flags());
    expect(merging.code).toBe(2);

    // Run again for its range: without --replace the lock is named; with it, the range is written.
    const again = await cli(['migrate', source, '--job', v2, '--out', parts[2], '--key-groups', ranges[2]]).done;
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--replace');
    const replaced = await cli(['migrate', source, '--job', v2, '--out', parts[2], '--key-groups', ranges[2], '--replace']).done;
    expect(replaced.code, replaced.stderr).toBe(0);

    const merged = await run('merge', ...parts, '--out', url('migration/merged'), '--json', ...flags());
    expect(merged.code, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout)).toMatchObject({ entries: 4000, partial: false });
    const single = await run('migrate', source, '--job', v2, '--out', url('migration/single'), ...flags());
    expect(single.code, single.stderr).toBe(0);
    const [fromParts, fromOne] = [await dumpAll(url('migration/merged')), await dumpAll(url('migration/single'))];
    expect(fromParts).toHaveLength(4000);
    expect(fromParts).toEqual(fromOne);
  });

  test('--workers above the cores warns on stderr', async () => {
    const source = join(await tempDir(), 'sp');
    const backend = await openHeapBackend({ job: await loadJob(fixture('orders.mjs')) });
    backend.operator<string>('orders-per-user').value('count').set('user-1', 1n);
    await backend.savepoint(source);
    await backend.close();
    const { availableParallelism } = await import('node:os');
    const workers = String(availableParallelism() + 1);
    const { code, stderr } = await run('migrate', source, '--job', fixture('orders.mjs'), '--out', join(await tempDir(), 'out'), '--workers', workers);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(`warning: --workers ${workers} is more than this machine's ${availableParallelism()} core`);
    const fits = await run('migrate', source, '--job', fixture('orders.mjs'), '--out', join(await tempDir(), 'out-1'), '--workers', '1');
    expect(fits.stderr).not.toContain('warning');
  });
});
