/**
 * Loading the adapters a savepoint needs, without a job module: a snapshot records the package
 * whose import registers its reader. The formats the CLI ships with are imported from here; any
 * other package is looked up in the current project, then beside the CLI (a global install).
 * Only valid npm package names are ever imported.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SavepointMetadata } from '@stateshift/savepoint';
import { notePackageName } from './text.js';

/** The adapters the CLI depends on, imported by their names from here. */
const SHIPPED: Record<string, () => Promise<unknown>> = {
  '@stateshift/avro': () => import('@stateshift/avro'),
  '@stateshift/protobuf': () => import('@stateshift/protobuf'),
  '@stateshift/thrift': () => import('@stateshift/thrift'),
  '@stateshift/pojo': () => import('@stateshift/pojo'),
};

const tried = new Set<string>();

/** Package names of the opaque (unread) snapshots anywhere in the metadata, nested ones included. */
export function missingPackages(metadata: SavepointMetadata): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (o.type === 'opaque' && typeof o.package === 'string') found.add(o.package);
      Object.values(o).forEach(walk);
    }
  };
  for (const op of metadata.operators) {
    walk(op.key.describe());
    if (op.namespace) walk(op.namespace.describe());
    for (const s of op.states) {
      if (s.mapKey) walk(s.mapKey.describe());
      for (const v of s.versions) walk(v.snapshot.describe());
    }
  }
  return [...found];
}

/** Resolves a package from the current project, else from beside the CLI (a global install). */
function resolveBeside(name: string, from: string): string {
  try {
    return createRequire(path.join(from, 'package.json')).resolve(name);
  } catch {
    return createRequire(import.meta.url).resolve(name);
  }
}

/**
 * Imports the packages `metadata` names that are not loaded yet; returns whether any was newly
 * loaded (then the metadata must be read again). A package that cannot be found stays unloaded:
 * reading its states fails later naming it.
 */
export async function loadAdapters(metadata: SavepointMetadata, from = process.cwd()): Promise<boolean> {
  let loaded = false;
  for (const name of missingPackages(metadata)) {
    if (tried.has(name) || !notePackageName(name)) continue;
    tried.add(name);
    try {
      if (SHIPPED[name]) await SHIPPED[name]();
      else await import(pathToFileURL(resolveBeside(name, from)).href);
      loaded = true;
    } catch {
      // Not installed here: the error naming the package comes when its state is read.
    }
  }
  return loaded;
}
