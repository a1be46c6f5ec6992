/** Loading a job module: a JS or TS file exporting a `defineJob` result (default export, or `job`). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isJobDeclaration, type JobDeclaration } from '@stateshift/core';
import { UsageError } from './errors.js';
import { safe } from './text.js';

let registered: Promise<unknown> | undefined;
/** TypeScript through tsx, as ES modules and as CommonJS (a package without "type": "module"). */
function registerTypeScript(): Promise<unknown> {
  registered ??= Promise.all([import('tsx/esm/api').then(({ register }) => register()), import('tsx/cjs/api').then(({ register }) => register())]);
  return registered;
}

export async function loadJob(modulePath: string): Promise<JobDeclaration> {
  const file = path.resolve(modulePath);
  if (!existsSync(file)) throw new UsageError(`job module ${safe(modulePath)} does not exist`);
  let module: Record<string, unknown>;
  try {
    // tsx's global loader (not tsImport, which isolates the module graph): the job module must
    // share this process's @stateshift packages, or its snapshots would not recognise the stored ones.
    if (/\.[mc]?tsx?$/.test(file)) await registerTypeScript();
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
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
