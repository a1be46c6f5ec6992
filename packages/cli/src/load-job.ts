/** Loading a job module: a JS or TS file exporting a `defineJob` result (default export, or `job`). */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isJobDeclaration, type JobDeclaration } from '@stateshift/core';
import { UsageError } from './errors.js';
import { safe } from './text.js';

let registered: Promise<unknown> | undefined;
/** TypeScript through tsx, as ES modules and as CommonJS (a package without "type": "module"). */
function registerTypeScript(): Promise<unknown> {
  registered ??= Promise.all([import('tsx/esm/api').then(({ register }) => register()), import('tsx/cjs/api').then(({ register }) => register())]);
  return registered;
}

/** The @stateshift packages this process has, imported by their names from here. */
const SHARED: Record<string, () => Promise<object>> = {
  '@stateshift/core': () => import('@stateshift/core'),
  '@stateshift/savepoint': () => import('@stateshift/savepoint'),
  '@stateshift/pojo': () => import('@stateshift/pojo'),
  '@stateshift/avro': () => import('@stateshift/avro'),
  '@stateshift/protobuf': () => import('@stateshift/protobuf'),
  '@stateshift/thrift': () => import('@stateshift/thrift'),
  '@stateshift/backend-heap': () => import('@stateshift/backend-heap'),
  '@stateshift/backend-lsm': () => import('@stateshift/backend-lsm'),
};

/** Whether Node loads `file` as CommonJS (a .cts/.cjs file, or one in a package without "type": "module"). */
function isCommonJs(file: string): boolean {
  if (/\.c[jt]sx?$/.test(file)) return true;
  if (/\.m[jt]sx?$/.test(file)) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type !== 'module';
    if (path.dirname(dir) === dir) return true;
  }
}

/**
 * A CommonJS module's require() of an ES-module-only @stateshift package would load a second copy
 * of it (tsx compiles it to CommonJS), whose classes and snapshot registry are not this process's.
 * Where the module would require the very file this process imported, it gets this process's copy.
 */
async function shareStateshiftPackages(file: string): Promise<void> {
  const require = createRequire(file);
  for (const [name, load] of Object.entries(SHARED)) {
    let resolved: string;
    try {
      resolved = require.resolve(name);
    } catch {
      continue;
    }
    if (require.cache[resolved] || fileURLToPath(import.meta.resolve(name)) !== resolved) continue;
    const shared = new Module(resolved);
    shared.filename = resolved;
    shared.loaded = true;
    shared.exports = await load();
    require.cache[resolved] = shared;
  }
}

/** Imports the module; a `process.exit` while it loads is an error, not the end of the command. */
async function importDeclaringOnly(file: string, shown: string): Promise<Record<string, unknown>> {
  const exit = process.exit;
  process.exit = ((code?: number) => {
    throw new UsageError(`job module ${safe(shown)} called process.exit(${code ?? ''}) while loading: a job module only declares; it must not exit`);
  }) as typeof process.exit;
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } finally {
    process.exit = exit;
  }
}

/**
 * Where a syntax error that stopped a module from loading is (`path:line:column`, the column from 1)
 * and what it is, or undefined. TypeScript (esbuild, through tsx) says so in its message, with a
 * column from 0; Node puts `path:line`, the line and a caret atop a CommonJS module's stack, but
 * nowhere for an ES module (Node 20), so then `node --check` (which only parses) is asked.
 */
function syntaxError(error: unknown, file: string): { at: string; what: string } | undefined {
  const message = error instanceof Error ? error.message : '';
  const esbuild = /^(.+):(\d+):(\d+): ERROR: (.+)$/m.exec(message);
  if (esbuild) {
    // tsx names x.mts and x.cts x.ts to esbuild (x.mjs x.js): the module is named as it was given.
    const stem = (p: string) => p.replace(/\.[cm]?[jt]sx?$/, '');
    const where = stem(esbuild[1]) === stem(file) ? file : esbuild[1];
    return { at: `${where}:${esbuild[2]}:${Number(esbuild[3]) + 1}`, what: esbuild[4] };
  }
  // tsx's loader (registered for a TypeScript job) reports an ES module that does not parse as a "Parse error" at 1:1.
  if (!(error instanceof SyntaxError) && !message.startsWith('Parse error')) return undefined;
  const atop = (text: string) => /^(.+):(\d+)\n.*\n( *)\^/.exec(text);
  let found = atop(error instanceof Error ? (error.stack ?? '') : '');
  let what = message;
  if (!found) {
    const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 30_000 });
    found = atop(check.stderr ?? '');
    what = /^SyntaxError: (.+)$/m.exec(check.stderr ?? '')?.[1] ?? message;
  }
  if (!found) return undefined;
  const where = found[1].startsWith('file:') ? fileURLToPath(found[1]) : found[1];
  return { at: `${where}:${found[2]}:${found[3].length + 1}`, what };
}

export async function loadJob(modulePath: string): Promise<JobDeclaration> {
  const file = path.resolve(modulePath);
  if (!existsSync(file)) throw new UsageError(`job module ${safe(modulePath)} does not exist`);
  let module: Record<string, unknown>;
  try {
    // tsx's global loader (not tsImport, which isolates the module graph): the job module must
    // share this process's @stateshift packages, or its snapshots would not recognise the stored ones.
    if (/\.[mc]?tsx?$/.test(file)) await registerTypeScript();
    if (isCommonJs(file)) await shareStateshiftPackages(file);
    module = await importDeclaringOnly(file, modulePath);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const syntax = syntaxError(error, file);
    if (syntax) throw new UsageError(`cannot load job module ${safe(modulePath)}: a syntax error at ${safe(syntax.at)}: ${syntax.what}; fix it and run the command again`);
    throw new UsageError(`cannot load job module ${safe(modulePath)}: ${(error as Error).message}`);
  }
  // A CommonJS-shaped module (or TypeScript compiled as one) nests its exports under default.
  const candidates = [module.default, module.job, (module.default as Record<string, unknown> | undefined)?.default, (module.default as Record<string, unknown> | undefined)?.job];
  const job = candidates.find(isJobDeclaration);
  if (!job) {
    const names = Object.keys(module).join(', ') || 'nothing';
    throw new UsageError(`job module ${safe(modulePath)} does not export a job: export a defineJob() result as the default export or as \`job\` (it exports ${names})`);
  }
  return job;
}
