import { describeSavepoint, openSavepoint } from '@stateshift/savepoint';
import { formatBytes, json, paint, table, type Io } from '../io.js';
import { EXIT_OK } from '../errors.js';

export const inspectHelp = `stateshift inspect <savepoint> [--json]

Lists the savepoint's job, operators and states with their schemas, entry counts and sizes.
Reads only the metadata.`;

function schemaText(schema: unknown): string {
  const text = JSON.stringify(schema, (_k, v) => (typeof v === 'bigint' ? `${v}` : v));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export async function inspect(io: Io, dir: string, options: { json?: boolean }): Promise<number> {
  const summary = describeSavepoint(await openSavepoint(dir));
  if (options.json) {
    io.out(json(summary, true));
    return EXIT_OK;
  }
  io.out(
    `${paint(io, 'bold', 'savepoint')} ${summary.dir}\n` +
      `job ${summary.jobName}, maxParallelism ${summary.maxParallelism}, taken ${summary.createdAt}\n` +
      `${summary.entries} entries in ${summary.files} files, ${formatBytes(summary.bytes)}\n\n`,
  );
  const rows = summary.operators.flatMap((op) =>
    op.states.map((s) => [
      op.uid,
      s.name,
      s.type,
      s.versions.map((v) => `v${v.id} ${v.kind}`).join(', '),
      String(s.entries),
      formatBytes(s.bytes),
      schemaText(s.versions[s.versions.length - 1].schema),
    ]),
  );
  io.out(table(io, ['operator', 'state', 'type', 'versions', 'entries', 'bytes', 'schema'], rows));
  const keys = summary.operators.map((op) => `  ${op.uid}: key ${schemaText(op.key)}${op.namespace ? `, namespace ${schemaText(op.namespace)}` : ''}`);
  io.out(`\nkeys\n${keys.join('\n')}\n`);
  return EXIT_OK;
}
