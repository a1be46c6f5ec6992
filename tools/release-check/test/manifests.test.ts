import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishablePackages } from '../src/index.js';

const CORE = '@stateshift/core';
const ALLOWED_FILES = new Set(['dist', 'src', 'README.md', 'CHANGELOG.md']);

const walk = (d: string): string[] =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));

/** Whether any source module registers a snapshot reader when imported. */
function registersOnImport(dir: string): boolean {
  return walk(path.join(dir, 'src')).some((f) => /registerSnapshotReader\(\s*\{/.test(readFileSync(f, 'utf8')));
}

describe.each(publishablePackages().map((p) => [p.manifest.name, p] as const))('%s manifest', (_name, { dir, manifest }) => {
  it('says what it is, under which licence, and where it comes from', () => {
    expect(manifest.description?.length).toBeGreaterThan(20);
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.repository?.directory).toBe(path.relative(path.resolve(dir, '../..'), dir));
    expect(existsSync(path.join(dir, 'README.md'))).toBe(true);
  });

  it('ships only dist, src, README and CHANGELOG', () => {
    expect(manifest.files?.length).toBeGreaterThan(0);
    for (const f of manifest.files ?? []) expect(ALLOWED_FILES.has(f), `files lists ${f}`).toBe(true);
  });

  it('ships the sources its source maps and declaration maps point at', () => {
    const maps = walk(path.join(dir, 'dist')).filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const shipped = (manifest.files ?? []).map((f) => path.join(dir, f));
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const file = path.resolve(path.dirname(map), sourceRoot, source);
        expect(existsSync(file) && shipped.some((s) => file.startsWith(s + path.sep)), `${path.relative(dir, map)} points at ${source}, which the package does not ship`).toBe(true);
      }
    }
  });

  it('exports ESM with types for every entry point, and needs Node 20', () => {
    for (const [entry, target] of Object.entries(manifest.exports ?? {})) {
      if (entry === './package.json') continue;
      expect(target, entry).toMatchObject({ types: expect.stringMatching(/^\.\/dist\/.*\.d\.ts$/), default: expect.stringMatching(/^\.\/dist\/.*\.js$/) });
    }
    expect(manifest.engines?.node).toBe('>=20');
  });

  it('shares one core: a peer dependency, never a bundled copy', () => {
    if (manifest.name === CORE) {
      expect(manifest.dependencies ?? {}).toEqual({});
      return;
    }
    // The CLI is an application: it owns its core instance.
    if (manifest.bin) return;
    expect(manifest.peerDependencies?.[CORE]).toBe('workspace:^');
    expect(manifest.dependencies?.[CORE]).toBeUndefined();
  });

  it('declares side effects exactly where importing registers snapshot readers', () => {
    if (registersOnImport(dir)) expect(manifest.sideEffects).not.toBe(false);
    else expect(manifest.sideEffects).toBe(false);
  });

  it('depends at run time only on published packages with caret ranges', () => {
    for (const [dep, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      expect(['@stateshift/bench', '@stateshift/release-check']).not.toContain(dep);
      if (dep.startsWith('@stateshift/')) expect(range, dep).toBe('workspace:^');
    }
  });
});
