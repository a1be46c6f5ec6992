/**
 * What the release checks need to know about the workspace: where it is, its publishable packages
 * and their manifests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  repository?: { type: string; url: string; directory?: string };
  files?: string[];
  exports?: Record<string, unknown>;
  engines?: Record<string, string>;
  sideEffects?: boolean | string[];
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  dir: string;
  manifest: Manifest;
}

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Every package under packages/, the ones users install. */
export function publishablePackages(): WorkspacePackage[] {
  const base = path.join(ROOT, 'packages');
  return readdirSync(base)
    .sort()
    .map((name) => path.join(base, name))
    .map((dir) => ({ dir, manifest: readManifest(dir) }))
    .filter((p) => !p.manifest.private);
}
