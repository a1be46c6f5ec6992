import type { StorageOptions } from '@stateshift/core';
import { readState } from '@stateshift/savepoint';
import { json, type Io } from '../io.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { loadJob } from '../load-job.js';
import { openForCli } from '../open.js';
import { safe } from '../text.js';

export const dumpHelp = `stateshift dump <savepoint> --operator <uid> --state <name> [--limit n] [--job <module>]

Prints a keyed state's entries as JSON lines: {"key", "namespace", "mapKey", "value", "keyGroup", "version"}.
Values are decoded with the snapshots stored in the savepoint (every format the CLI ships with, and
any adapter installed in the current project, is loaded as the savepoint names it), or read through
the job module's declaration (--job: migrated as a restore would). bigint values print as
{"$bigint": "12"}, bytes as {"$bytes": base64}, Map as {"$map": [[k, v]]}, Set as {"$set": [...]}.`;

/** A whole number option: digits only ('' and '1e3' are refused). */
export function wholeNumber(name: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`--${name} must be a whole number in ${min}..${max}, got "${safe(text)}"`);
  return n;
}

export async function dump(io: Io, dir: string, options: { operator?: string; state?: string; limit?: string; job?: string; storage?: StorageOptions }): Promise<number> {
  if (!options.operator || !options.state) throw new UsageError('dump needs --operator <uid> and --state <name>');
  const limit = wholeNumber('limit', options.limit, 0);
  const job = options.job ? await loadJob(options.job) : undefined;
  const savepoint = await openForCli(dir, options.storage);
  for await (const entry of readState(savepoint, options.operator, options.state, { limit, job })) {
    if (!io.out(json(entry))) await io.drain?.();
  }
  return EXIT_OK;
}
