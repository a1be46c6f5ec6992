/**
 * Ctrl-C (SIGINT) and a closed output pipe, sent to the built CLI in its own process: what a command
 * made (the demo's temporary directory, a migration's or a merge's output) is removed before it ends.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { keyGroupOf } from '@stateshift/core';
import { FIRST_VERSION, layoutOfJob, writeSavepointEntries } from '@stateshift/savepoint';
import { loadJob } from '../src/load-job.js';
import { fixture, ordersSavepoint, run, tempDir } from './helpers.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

interface Ended {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; `ended` resolves once it has exited. */
function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<Ended>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, ended };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The demo's temporary directory, once it exists (TMPDIR is a directory of the test's own). */
function demoDir(tmp: string): string | undefined {
  const name = readdirSync(tmp).find((n) => n.startsWith('stateshift-demo-'));
  return name && join(tmp, name);
}

const dataFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.dat')) : []);

describe('stateshift demo, ended early', () => {
  test('Ctrl-C: its temporary directory is removed, exit 130', async () => {
    const tmp = await tempDir();
    const { child, ended } = start(['demo', '--orders', '5000000'], { TMPDIR: tmp });
    await until(() => !!demoDir(tmp), 'the demo directory');
    const dir = demoDir(tmp)!;
    child.kill('SIGINT');
    const result = await ended;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toBe('stateshift demo: the demo was interrupted; its temporary directory was removed\n');
    expect(existsSync(dir)).toBe(false);
  });

  test('a reader that goes away (| head -1): its temporary directory is removed, quietly', async () => {
    const tmp = await tempDir();
    const { child, ended } = start(['demo', '--orders', '3000'], { TMPDIR: tmp });
    child.stdout.once('data', () => child.stdout.destroy());
    const result = await ended;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('Ctrl-C during a migration or a merge: nothing is kept', () => {
  for (const workers of ['1', '2']) {
    test(`migrate --workers ${workers}: its output is removed, exit 130 with one line saying so`, async () => {
      const sp = await ordersSavepoint(150_000);
      const out = join(await tempDir(), 'out');
      const { child, ended } = start(['migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out, '--workers', workers]);
      // Data files appear as soon as the parts write: it is under way.
      await until(() => dataFiles(out).length >= Number(workers), 'data files at --out');
      child.kill('SIGINT');
      const result = await ended;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toBe(`stateshift migrate: the migration was interrupted; nothing was kept (what it had written to ${out} was removed)\n`);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
      // Nothing is left that --replace would be needed for.
      const again = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out);
      expect(again.code, again.stderr).toBe(0);
    });
  }

  test('merge: its output is removed, exit 130', async () => {
    // 100 MB in large entries (bytes the merge copies and verifies, never decodes): a copy that takes a while.
    const sp = join(await tempDir(), 'large');
    const value = new Uint8Array(64 * 1024);
    const entries = Array.from({ length: 1600 }, (_, i) => {
      const key = new TextEncoder().encode(`user-${i}`);
      return { state: 0, keyGroup: keyGroupOf(key, 64), key, namespace: new Uint8Array(), mapKey: new Uint8Array(), version: FIRST_VERSION, value };
    });
    await writeSavepointEntries(sp, layoutOfJob(await loadJob(fixture('orders.mjs'))), { start: 0, end: 63 }, [{ uid: 'orders-per-user', entries }]);
    const out = join(await tempDir(), 'merged');
    const { child, ended } = start(['merge', sp, '--out', out]);
    await until(() => dataFiles(out).length > 0, 'data files at --out');
    child.kill('SIGINT');
    const result = await ended;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('stateshift merge: the merge was interrupted; nothing was kept');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});
