import { openSavepoint, readState } from '@stateshift/savepoint';
import { json, type Io } from '../io.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { loadJob } from '../load-job.js';

export const dumpHelp = `stateshift dump <savepoint> --operator <uid> --state <name> [--limit n] [--job <module>]

Prints a keyed state's entries as JSON lines: {"key", "namespace", "mapKey", "value", "keyGroup", "version"}.
Values are decoded with the snapshots stored in the savepoint, or read through the job module's
declaration (--job: migrated as a restore would). bigint values print as {"$bigint": "12"}, bytes as
{"$bytes": base64}, Map as {"$map": [[k, v]]}, Set as {"$set": [...]}.`;

export async function dump(io: Io, dir: string, options: { operator?: string; state?: string; limit?: string; job?: string }): Promise<number> {
  if (!options.operator || !options.state) throw new UsageError('dump needs --operator <uid> and --state <name>');
  const limit = options.limit === undefined ? undefined : Number(options.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new UsageError(`--limit must be a whole number, got ${options.limit}`);
  const savepoint = await openSavepoint(dir);
  const job = options.job ? await loadJob(options.job) : undefined;
  for await (const entry of readState(savepoint, options.operator, options.state, { limit, job })) io.out(json(entry));
  return EXIT_OK;
}
