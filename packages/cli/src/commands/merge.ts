import type { StorageOptions } from '@stateshift/core';
import { formatBytes, json, type Io } from '../io.js';
import { EXIT_OK, NotASavepointError, UsageError } from '../errors.js';
import { formatRanges, isFullRange, mergeSavepoints } from '@stateshift/savepoint';
import { interruptible } from '../interrupt.js';
import { notASavepoint } from '../open.js';
import { safe } from '../text.js';
import { checkOutside, removeUnfinished, withReplaceHint } from '../locations.js';

export interface MergeCommandOptions {
  out?: string;
  allowGaps?: boolean;
  dropPosition?: boolean;
  replace?: boolean;
  json?: boolean;
  storage?: StorageOptions;
}

export async function merge(io: Io, parts: string[], options: MergeCommandOptions): Promise<number> {
  if (!parts.length || !options.out) throw new UsageError('merge needs one or more savepoints and --out <dir>');
  const { storage = {} } = options;
  checkOutside(options.out, parts);
  for (const part of parts) {
    const why = await notASavepoint(part, storage);
    if (why) throw new NotASavepointError(why);
  }
  if (options.replace) await removeUnfinished(options.out, storage);
  const out = options.out;
  // Ctrl-C stops the copy at its next chunk; the merge's writer then aborts, as on any failure.
  const what = `the merge was interrupted; nothing was kept (what it had written to ${safe(out)} was removed)`;
  const metadata = await interruptible(what, (signal) =>
    mergeSavepoints(parts, out, { allowGaps: options.allowGaps, ...(options.dropPosition ? { position: null } : {}), storage, signal }),
  ).catch((error: unknown) => {
    throw withReplaceHint(error, 'merge');
  });
  const entries = metadata.files.reduce((n, f) => n + f.entries, 0);
  const bytes = metadata.files.reduce((n, f) => n + f.size, 0);
  const ranges = metadata.keyGroupRanges ?? [{ start: 0, end: metadata.maxParallelism - 1 }];
  const partial = !isFullRange(ranges, metadata.maxParallelism);
  if (options.json) io.out(json({ out: options.out, parts: parts.length, entries, bytes, files: metadata.files.length, partial, keyGroupRanges: ranges }, true));
  else {
    io.out(`merged ${parts.length} savepoints into ${safe(options.out)}: ${entries} entries in ${metadata.files.length} files, ${formatBytes(bytes)}\n`);
    io.out(partial ? `partial: key groups ${formatRanges(ranges)}\n` : `complete: key groups 0-${metadata.maxParallelism - 1}\n`);
  }
  return EXIT_OK;
}
