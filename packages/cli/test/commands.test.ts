import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism, hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { openHeapBackend } from '@stateshift/backend-heap';
import { DataOutput, keyGroupOf, string } from '@stateshift/core';
import { openSavepoint, SavepointWriter } from '@stateshift/savepoint';
import { loadJob } from '../src/load-job.js';
import { fixture, ordersSavepoint, run, tempDir } from './helpers.js';

/** A string key's bytes, as the operator's key serializer writes them. */
function stringBytes(key: string): Uint8Array {
  const out = new DataOutput();
  string().serialize(key, out);
  return out.toBytes();
}

describe('inspect', () => {
  test('lists operators, states, schemas and sizes', async () => {
    const sp = await ordersSavepoint();
    const { code, stdout } = await run('inspect', sp);
    expect(code).toBe(0);
    expect(stdout).toContain('orders-per-user');
    expect(stdout).toMatch(/last-order\s+value\s+v1 pojo\s+200/);
    const json = JSON.parse((await run('inspect', sp, '--json')).stdout);
    expect(json.operators[0].states.map((s: { name: string }) => s.name)).toEqual(['count', 'last-order']);
  });

  test('a path that is not a savepoint: exit 2 and why', async () => {
    const { code, stderr } = await run('inspect', await tempDir());
    expect(code).toBe(2);
    expect(stderr).toMatch(/NotASavepointError: .* has no _metadata, so it is not a savepoint .*it is empty/);
  });

  test('a corrupted savepoint: exit 2 naming the file and offset', async () => {
    const sp = await ordersSavepoint();
    const meta = join(sp, '_metadata');
    const bytes = await readFile(meta);
    bytes[bytes.length - 3] ^= 0xff;
    await writeFile(meta, bytes);
    const { code, stderr } = await run('inspect', sp);
    expect(code).toBe(2);
    expect(stderr).toContain('_metadata');
    expect(stderr).toMatch(/CorruptSavepointError/);
  });
});

test('check --json gives the error of its child process with its stable code', async () => {
  const sp = await ordersSavepoint(50);
  const metadata = await readFile(join(sp, '_metadata'));
  metadata[30] ^= 0xff;
  await writeFile(join(sp, '_metadata'), metadata);
  const { code, stdout, stderr } = await run('check', sp, '--job', fixture('orders-v2.ts'), '--json');
  expect(code, stderr).toBe(2);
  expect(JSON.parse(stdout).error).toMatchObject({ name: 'CorruptSavepointError', code: 'STATESHIFT_CORRUPT_SAVEPOINT' });
});

test('a location of a scheme no savepoint is stored in is refused as such by every command, never made a path', async () => {
  for (const args of [['inspect', 'gs://bucket/sp'], ['dump', 'gs://bucket/sp', '--operator', 'o', '--state', 's'], ['check', 'gs://bucket/sp', '--job', fixture('orders-v2.ts')]]) {
    const { code, stderr } = await run(...args);
    expect(code).toBe(2);
    expect(stderr).toContain('"gs://bucket/sp" names a location of scheme "gs:", which stateshift cannot store savepoints in');
  }
});

test('bad flag values are usage errors, and a message over several lines is printed as lines', async () => {
  const demo = await run('demo', '--orders', 'abc');
  expect(demo.code).toBe(2);
  expect(demo.stderr).toContain('stateshift demo: UsageError: --orders must be a whole number');
  const dash = await run('dump', 'x', '--limit', '-1');
  expect(dash.code).toBe(2);
  expect(dash.stderr).toContain("argument is ambiguous.\nDid you forget");
});

describe('errors of worker threads', () => {
  test('a damaged block only a worker reads: the typed error, its code and the file and offset, and nothing written, with 1 or 2 workers', async () => {
    const sp = await ordersSavepoint(300);
    const [data] = (await readdir(sp)).filter((n) => n.endsWith('.dat'));
    const bytes = await readFile(join(sp, data));
    // The last block holds the highest key groups: the second of two parts.
    bytes[bytes.length - 2] ^= 0xff;
    await writeFile(join(sp, data), bytes);
    for (const workers of ['1', '2']) {
      const out = join(await tempDir(), 'out');
      const { code, stdout, stderr } = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out, '--workers', workers, '--json');
      expect(code, stderr).toBe(2);
      const { error } = JSON.parse(stdout);
      expect(error).toMatchObject({ name: 'CorruptSavepointError', code: 'STATESHIFT_CORRUPT_SAVEPOINT' });
      expect(error.message).toMatch(new RegExp(`${data} at offset \\d+: block checksum mismatch`));
      // The name is beside the message, not repeated in it; stderr has both.
      expect(error.message).not.toMatch(/^CorruptSavepointError/);
      expect(stderr).toMatch(/^stateshift migrate: CorruptSavepointError: /m);
      // Nothing is left: not the part that finished, not the one that failed.
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('dump', () => {
  test('entries as JSON lines, bigint in its documented form, --limit', async () => {
    const sp = await ordersSavepoint();
    const { code, stdout } = await run('dump', sp, '--operator', 'orders-per-user', '--state', 'count', '--limit', '3');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0].value).toHaveProperty('$bigint');
    expect(lines[0].key).toMatch(/^user-/);
  });

  test('through a new job module: values migrated on the fly', async () => {
    const sp = await ordersSavepoint(5);
    const { code, stdout } = await run('dump', sp, '--operator', 'orders-per-user', '--state', 'last-order', '--job', fixture('orders-v2.ts'));
    expect(code).toBe(0);
    expect(JSON.parse(stdout.split('\n')[0]).value).toMatchObject({ orderId: expect.any(Number), amount: 0 });
  });

  test('unknown operator or state, missing options: exit 2', async () => {
    const sp = await ordersSavepoint(5);
    const op = await run('dump', sp, '--operator', 'nope', '--state', 'count');
    expect(op.code).toBe(2);
    expect(op.stderr).toContain('no operator "nope"; it has "orders-per-user"');
    const state = await run('dump', sp, '--operator', 'orders-per-user', '--state', 'nope');
    expect(state.code).toBe(2);
    expect(state.stderr).toContain('no state "nope"; it has "count", "last-order"');
    expect((await run('dump', sp)).code).toBe(2);
    expect((await run('dump', sp, '--operator', 'orders-per-user', '--state', 'count', '--limit', 'x')).code).toBe(2);
  });
});

describe('check', () => {
  test('a safe upgrade (TypeScript job module with a converter): exit 0', async () => {
    const sp = await ordersSavepoint();
    const { code, stdout } = await run('check', sp, '--job', fixture('orders-v2.ts'));
    expect(code).toBe(0);
    expect(stdout).toContain('SAFE');
    const json = JSON.parse((await run('check', sp, '--job', fixture('orders-v2.ts'), '--json')).stdout);
    expect(json.ok).toBe(true);
    expect(json.states.find((s: { state: string }) => s.state === 'last-order')).toMatchObject({ verdict: 'compatibleAfterMigration', converterUsed: true, entriesToMigrate: 200 });
  });

  test('an unsafe upgrade: exit 1 naming the field', async () => {
    const sp = await ordersSavepoint();
    const { code, stdout } = await run('check', sp, '--job', fixture('orders-v2-int.mjs'));
    expect(code).toBe(1);
    expect(stdout).toContain('UNSAFE');
    expect(stdout).toContain('Order.orderId');
    const json = JSON.parse((await run('check', sp, '--job', fixture('orders-v2-int.mjs'), '--json')).stdout);
    expect(json).toMatchObject({ ok: false, error: { name: 'IncompatibleStateError' } });
  });

  test('a key serializer changed without a converter: shown once as the operator\'s, each state refers to it', async () => {
    const sp = await ordersSavepoint(5);
    const { code, stdout } = await run('check', sp, '--job', fixture('orders-int-key.mjs'));
    expect(code).toBe(1);
    const [table] = stdout.split('UNSAFE');
    expect(table.match(/operator "orders-per-user" \(key\): type changed from core\.string to core\.int64/g)).toHaveLength(1);
    expect(table).toMatch(/count\s+incompatible\s+\(key\): the operator's, above/);
    expect(table).toMatch(/last-order\s+incompatible\s+\(key\): the operator's, above/);
    expect(stdout).not.toContain('(value)');
    // The remedy for a key is the operator's migrateKey; a state's migrate would not help.
    expect(table).toContain('give the operator a `migrateKey` converter');
    expect(stdout).not.toContain('`migrate` converter');
  });

  test('a module that does not export a job, or does not exist: exit 2', async () => {
    const sp = await ordersSavepoint(5);
    const bad = await run('check', sp, '--job', fixture('not-a-job.mjs'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('does not export a job');
    expect(bad.stderr).toContain('it exports answer');
    const missing = await run('check', sp, '--job', fixture('missing.mjs'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    expect((await run('check', sp)).code).toBe(2);
  });

  test('a job module with a syntax error: the message names its file, line and column', async () => {
    const sp = await ordersSavepoint(5);
    const dir = await tempDir();
    // The built command, in its own process: a test runner would load the module its own way.
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    for (const name of ['job.mjs', 'job.ts', 'job.cjs']) {
      const file = join(dir, name);
      await writeFile(file, `// a job\nconst answer = 42;\nconst broken = {;\nexport default broken;\n`);
      const migrate = spawnSync(process.execPath, [bin, 'migrate', sp, '--job', file, '--out', join(dir, 'out')], { encoding: 'utf8' });
      expect(migrate.status).toBe(2);
      expect(migrate.stderr).toContain(`cannot load job module ${file}: a syntax error at ${file}:3:17: `);
      expect(migrate.stderr).toContain('fix it and run the command again');
    }
    // check loads the job in a child process: the same message comes back.
    const check = spawnSync(process.execPath, [bin, 'check', sp, '--job', join(dir, 'job.mjs')], { encoding: 'utf8' });
    expect(check.status).toBe(2);
    expect(check.stderr).toContain(`a syntax error at ${join(dir, 'job.mjs')}:3:17: Unexpected token ';'`);
  });
});

describe('migrate', () => {
  test('writes a migrated savepoint, with 1 or 2 workers, that restores as is', async () => {
    const sp = await ordersSavepoint(300);
    const job = await loadJob(fixture('orders-v2.ts'));
    for (const workers of ['1', '2']) {
      const out = join(await tempDir(), `out-${workers}`);
      const { code, stdout, stderr } = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out, '--workers', workers, '--json');
      expect(code, stderr).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ entries: 600, workers: Number(workers), partial: false });
      const check = await run('check', out, '--job', fixture('orders-v2.ts'), '--json');
      expect(JSON.parse(check.stdout).states.every((s: { verdict: string }) => s.verdict === 'compatibleAsIs')).toBe(true);
      const backend = await openHeapBackend({ job, restoreFrom: out });
      expect(await backend.operator('orders-per-user').value('last-order').get('user-7')).toEqual({ orderId: 7, userId: 'user-7', createTs: 7n, amount: 0 });
    }
  });

  test('with 2 workers, skewed data is split into parts of about equal size, not equal key groups', async () => {
    // 900 users in key groups 0-7 and 100 in the other 56 (of 64): halves by key groups would be 900 and 100.
    const job = await loadJob(fixture('orders.mjs'));
    const backend = await openHeapBackend({ job });
    const op = backend.operator<string>('orders-per-user');
    let dense = 0;
    let sparse = 0;
    for (let i = 0; dense < 900 || sparse < 100; i++) {
      const user = `user-${i}`;
      const heavy = keyGroupOf(stringBytes(user), 64) < 8;
      if (heavy ? dense++ >= 900 : sparse++ >= 100) continue;
      await op.value('count').set(user, BigInt(i));
    }
    const sp = join(await tempDir(), 'skewed');
    await backend.savepoint(sp);
    await backend.close();
    const out = join(await tempDir(), 'out');
    const { code, stderr } = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out, '--workers', '2');
    expect(code, stderr).toBe(0);
    const files = (await openSavepoint(out)).metadata.files;
    expect(files).toHaveLength(2);
    for (const f of files) expect(f.entries).toBeGreaterThan(300);
    expect(files[0].entries + files[1].entries).toBe(1000);
  });

  test('an --out holding only a subdirectory is refused, also with --replace, and left alone', async () => {
    const sp = await ordersSavepoint(50);
    const out = join(await tempDir(), 'out');
    await mkdir(join(out, 'mydata'), { recursive: true });
    await writeFile(join(out, 'mydata', 'file'), 'precious');
    const refused = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('the location is not empty (it holds "mydata/")');
    const replaced = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out, '--replace');
    expect(replaced.code).toBe(2);
    expect(replaced.stderr).toContain('holds mydata/, which no savepoint writer wrote; --replace leaves it alone');
    expect(await readdir(out)).toEqual(['mydata']);
    expect(await readFile(join(out, 'mydata', 'file'), 'utf8')).toBe('precious');
  });

  test('--replace refuses an --out whose writer still runs on this host, naming it; that of a writer that is gone is removed', async () => {
    const sp = await ordersSavepoint(50);
    const out = join(await tempDir(), 'out');
    // A writer at work, in this process.
    const writer = await SavepointWriter.create(out, { jobName: 'other', maxParallelism: 64, operators: [] });
    for (const command of [['migrate', sp, '--job', fixture('orders-v2.ts')], ['merge', sp]]) {
      const refused = await run(...command, '--out', out, '--replace');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`--out ${out} is being written by process ${process.pid} on this host (since `);
      expect(refused.stderr).toContain(`wait for that process to finish, or stop it (kill ${process.pid}) and run again with --replace`);
      expect(await readdir(out)).toEqual(['_lock']);
    }
    await writer.abort();
    // What a killed writer left: its process is gone.
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await mkdir(out, { recursive: true });
    await writeFile(join(out, '_lock'), `stateshift savepoint writer: pid ${gone} on ${hostname()} since 2026-01-01T00:00:00.000Z`);
    await writeFile(join(out, 'op0-kg0-63-w0f0.dat'), 'unfinished');
    const replaced = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out, '--replace');
    expect(replaced.code, replaced.stderr).toBe(0);
    expect((await openSavepoint(out)).metadata.files.length).toBeGreaterThan(0);
  });

  test('an --out that is a file is refused as such (not as held by another writer), also with --replace, and left alone', async () => {
    const sp = await ordersSavepoint(5);
    const file = join(await tempDir(), 'afile');
    await writeFile(file, 'precious');
    for (const command of [['migrate', sp, '--job', fixture('orders-v2.ts')], ['migrate', sp, '--job', fixture('orders-v2.ts'), '--replace'], ['merge', sp]]) {
      const refused = await run(...command, '--out', file);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`${file}: cannot write a savepoint here: it is a file, not a directory; choose another location (stateshift migrate and merge: another --out)`);
      expect(refused.stderr).not.toContain('another savepoint writer');
    }
    expect(await readFile(file, 'utf8')).toBe('precious');
  });

  test('more workers than cores: a warning naming the cores, and the same savepoint', async () => {
    const sp = await ordersSavepoint(300);
    const workers = availableParallelism() + 1;
    const { code, stdout, stderr } = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', join(await tempDir(), 'many'), '--workers', String(workers), '--json');
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(`--workers ${workers} is more than this machine's ${availableParallelism()} core`);
    expect(JSON.parse(stdout)).toMatchObject({ entries: 600, workers, partial: false });
    const fewer = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', join(await tempDir(), 'few'), '--workers', String(availableParallelism()));
    expect(fewer.stderr).not.toContain('warning');
  });

  test('--key-groups writes one range only', async () => {
    const sp = await ordersSavepoint(300);
    const out = join(await tempDir(), 'half');
    const { code, stdout } = await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out, '--key-groups', '0-31', '--json');
    expect(code).toBe(0);
    const entries = JSON.parse(stdout).entries;
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThan(600);
  });

  test('an unsafe upgrade or bad options: exit 2, nothing written', async () => {
    const sp = await ordersSavepoint(5);
    const out = join(await tempDir(), 'never');
    const unsafe = await run('migrate', sp, '--job', fixture('orders-v2-int.mjs'), '--out', out);
    expect(unsafe.code).toBe(2);
    expect(unsafe.stderr).toContain('Order.orderId');
    expect((await run('inspect', out)).code).toBe(2);
    // Workers start before the upgrade is decided: refused, they are ended having written nothing.
    const threaded = await run('migrate', sp, '--job', fixture('orders-v2-int.mjs'), '--out', out, '--workers', '2');
    expect(threaded.code).toBe(2);
    expect(threaded.stderr).toContain('Order.orderId');
    expect(existsSync(out)).toBe(false);
    const nowhere = await run('migrate', join(sp, 'missing'), '--job', fixture('orders-v2.ts'), '--out', out, '--workers', '2');
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('does not exist');
    expect(existsSync(out)).toBe(false);
    expect((await run('migrate', sp, '--job', fixture('orders-v2.ts'))).code).toBe(2);
    expect((await run('migrate', sp, '--job', fixture('orders-v2.ts'), '--out', out, '--workers', '0')).code).toBe(2);
  });
});

describe('usage', () => {
  test('--help for every command, unknown commands and options', async () => {
    for (const command of ['inspect', 'dump', 'check', 'migrate', 'demo']) {
      const { code, stdout } = await run(command, '--help');
      expect(code).toBe(0);
      expect(stdout).toContain(`stateshift ${command}`);
    }
    expect((await run('--help')).code).toBe(0);
    expect((await run()).code).toBe(2);
    expect((await run('frobnicate')).stderr).toContain('unknown command "frobnicate"');
    expect((await run('inspect', '--bogus')).code).toBe(2);
  });

  test('the installed bin runs', () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    const result = spawnSync(process.execPath, [bin, 'inspect', '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('stateshift inspect');
  });
});

test('demo runs the story end to end', async () => {
  const { code, stdout } = await run('demo', '--orders', '2000');
  expect(code).toBe(0);
  expect(stdout).toContain('exit code 1: the upgrade is refused');
  expect(stdout).toContain('Order.orderId');
  expect(stdout).toContain('SAFE');
  expect(stdout).toContain('lazy restore');
  expect(stdout).toContain('savepoint-2');
});
