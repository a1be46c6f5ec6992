import type { StorageOptions } from '@stateshift/core';
import { readState } from '@stateshift/savepoint';
import { json, type Io } from '../io.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { wholeNumber } from '../flags.js';
import { loadJob } from '../load-job.js';
import { openForCli } from '../open.js';
import { safe } from '../text.js';

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
