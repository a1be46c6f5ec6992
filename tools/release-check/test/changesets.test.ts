import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishablePackages, readManifest, ROOT, run } from '../src/index.js';

/** A copy of what `changeset version` reads and writes: manifests, workspace file, pending changesets. */
function copyForVersioning(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stateshift-changesets-'));
  for (const f of ['package.json', 'pnpm-workspace.yaml']) cpSync(path.join(ROOT, f), path.join(dir, f));
  cpSync(path.join(ROOT, '.changeset'), path.join(dir, '.changeset'), { recursive: true });
  for (const group of ['packages', 'tools']) {
    for (const name of readdirSync(path.join(ROOT, group))) {
      const manifest = path.join(ROOT, group, name, 'package.json');
      if (!existsSync(manifest)) continue;
      mkdirSync(path.join(dir, group, name), { recursive: true });
      cpSync(manifest, path.join(dir, group, name, 'package.json'));
    }
  }
  run('git', ['init', '-q'], { cwd: dir });
  return dir;
}

describe('changeset version', () => {
  it('gives every published package the same new version and a changelog of its own changes', () => {
    const pending = readdirSync(path.join(ROOT, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(pending.length, 'pending changesets').toBeGreaterThan(0);
    const dir = copyForVersioning();
    run(path.join(ROOT, 'node_modules/.bin/changeset'), ['version'], { cwd: dir });

    const before = publishablePackages();
    const versions = new Set<string>();
    for (const { dir: pkgDir, manifest } of before) {
      const rel = path.relative(ROOT, pkgDir);
      const next = readManifest(path.join(dir, rel));
      versions.add(next.version);
      expect(next.version, manifest.name).not.toBe(manifest.version);
      // Ranges stay workspace:^ here; pnpm pack turns them into ^<the new version>.
      if (manifest.peerDependencies) expect(next.peerDependencies).toEqual(manifest.peerDependencies);
      const changelog = path.join(dir, rel, 'CHANGELOG.md');
      expect(existsSync(changelog), `${manifest.name} CHANGELOG.md`).toBe(true);
      expect(readFileSync(changelog, 'utf8')).toContain(`## ${next.version}`);
    }
    expect([...versions]).toHaveLength(1);
    // Private tools are never versioned.
    expect(readManifest(path.join(dir, 'tools/bench')).version).toBe('0.0.0');
  });
});
