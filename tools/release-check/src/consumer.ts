/**
 * A consumer project as a user makes one: a fresh directory outside the workspace that installs
 * stateshift tarballs with npm.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { publishablePackages } from './workspace.js';
import { run } from './run.js';

/** Packs every publishable package (workspace ranges become real ones) and returns name to tarball path. */
export function packAll(): Map<string, string> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'stateshift-tarballs-'));
  const tarballs = new Map<string, string>();
  for (const { dir, manifest } of publishablePackages()) {
    const before = new Set(readdirSync(out));
    run('pnpm', ['pack', '--pack-destination', out], { cwd: dir });
    const made = readdirSync(out).filter((f) => !before.has(f));
    if (made.length !== 1) throw new Error(`pnpm pack in ${dir} made ${made.length} tarballs`);
    tarballs.set(manifest.name, path.join(out, made[0]));
  }
  return tarballs;
}

export interface Consumer {
  dir: string;
  /** Every package path in the lockfile, e.g. "node_modules/avsc". */
  installed(): string[];
  node(script: string, args?: string[]): { status: number | null; stdout: string; stderr: string };
}

/**
 * A project that asks for `wanted` only. Other stateshift packages that a wanted one depends on
 * (savepoint, for the backends) resolve to their tarballs through `overrides`, as they would
 * resolve from the registry.
 */
export function createConsumer(name: string, wanted: string[], tarballs: Map<string, string>, scripts: Record<string, string>): Consumer {
  const dir = mkdtempSync(path.join(os.tmpdir(), `stateshift-consumer-${name}-`));
  const file = (pkg: string) => {
    const tarball = tarballs.get(pkg);
    if (!tarball) throw new Error(`no tarball for ${pkg}`);
    return `file:${tarball}`;
  };
  const overrides = Object.fromEntries([...tarballs.keys()].filter((p) => !wanted.includes(p)).map((p) => [p, file(p)]));
  const manifest = {
    name: `consumer-${name}`,
    private: true,
    type: 'module',
    dependencies: Object.fromEntries(wanted.map((p) => [p, file(p)])),
    overrides,
  };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [script, code] of Object.entries(scripts)) writeFileSync(path.join(dir, script), code);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  return {
    dir,
    installed: () => Object.keys((JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as { packages: object }).packages),
    node: (script, args = []) => run(process.execPath, [script, ...args], { cwd: dir, allowFailure: true, timeout: 120_000 }),
  };
}
