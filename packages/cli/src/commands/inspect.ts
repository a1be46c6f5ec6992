import type { StorageOptions } from '@stateshift/core';
import { describeSavepoint, formatRanges } from '@stateshift/savepoint';
import { formatBytes, json, paint, table, type Io } from '../io.js';
import { EXIT_OK } from '../errors.js';
import { openForCli } from '../open.js';
import { isValidPackageName, redactInReport, safe } from '../text.js';

function schemaText(schema: unknown): string {
  const text = JSON.stringify(schema, (k, v) => {
    if (typeof v === 'bigint') return `${v}`;
    if (k === 'package' && typeof v === 'string' && !isValidPackageName(v)) return '(not a valid npm package name)';
    return v;
  });
  return safe(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

export async function inspect(io: Io, dir: string, options: { json?: boolean; storage?: StorageOptions }): Promise<number> {
  const summary = describeSavepoint(await openForCli(dir, options.storage));
  if (options.json) {
    io.out(json(redactInReport(summary), true));
    return EXIT_OK;
  }
  const keyGroups = summary.partial
    ? `${paint(io, 'yellow', 'partial')}: holds key groups ${formatRanges(summary.keyGroupRanges)} of 0-${summary.maxParallelism - 1}`
    : `all key groups (0-${summary.maxParallelism - 1})`;
  io.out(
    `${paint(io, 'bold', 'savepoint')} ${safe(summary.dir)}\n` +
      `job ${safe(summary.jobName)}, maxParallelism ${summary.maxParallelism}, taken ${summary.createdAt}\n` +
      `${keyGroups}\n` +
      (summary.position ? `application position: ${summary.position.length / 2} bytes (${summary.position.length > 64 ? `${summary.position.slice(0, 64)}...` : summary.position})\n` : '') +
      `${summary.entries} entries in ${summary.files} files, ${formatBytes(summary.bytes)}\n\n`,
  );
  const rows = summary.operators.flatMap((op) =>
    op.states.map((s) => [
      safe(op.uid),
      safe(s.name),
      s.type,
      safe(s.versions.map((v) => `v${v.id} ${v.kind}`).join(', ')),
      String(s.entries),
      formatBytes(s.bytes),
      schemaText(s.versions[s.versions.length - 1].schema),
    ]),
  );
  io.out(table(io, ['operator', 'state', 'type', 'versions', 'entries', 'bytes', 'schema'], rows));
  const keys = summary.operators.map((op) => `  ${safe(op.uid)}: key ${schemaText(op.key)}${op.namespace ? `, namespace ${schemaText(op.namespace)}` : ''}`);
  io.out(`\nkeys\n${keys.join('\n')}\n`);
  return EXIT_OK;
}
