import type { JobDeclaration } from '@stateshift/core';
import { checkUpgrade, openSavepoint, type OperatorCheck, type UpgradeCheck } from '@stateshift/savepoint';
import { json, paint, table, type Io } from '../io.js';
import { EXIT_OK, EXIT_UNSAFE, UsageError } from '../errors.js';
import { loadJob } from '../load-job.js';

export const checkHelp = `stateshift check <savepoint> --job <module> [--allow-non-restored-state] [--json]

The upgrade dry-run: applies the restore rules to the savepoint and the job module's declaration,
exactly as a restore would, without touching data. Exit code 0 when the upgrade is safe, 1 when a
restore would fail (the reasons are printed), 2 for usage or I/O errors. --json prints the report.`;

function operatorText(o: OperatorCheck): string {
  switch (o.status) {
    case 'renamed':
      return `renamed from "${o.previousUid}"`;
    case 'dropped':
      return o.dropReason === 'declared' ? 'dropped (declared in dropOperators)' : 'dropped (allowNonRestoredState)';
    case 'missing':
      return 'only in the savepoint, not declared (rename: previousUids; drop: dropOperators)';
    default:
      return 'new in the job';
  }
}

export function printCheck(io: Io, report: UpgradeCheck): void {
  const verdictColor = (v: string) => (v === 'incompatible' ? 'red' : v === 'compatibleAsIs' || v === 'new' ? 'green' : 'yellow');
  const rows = report.states.map((s) => [
    s.operator,
    s.state,
    paint(io, verdictColor(s.verdict), s.verdict),
    s.converterUsed ? 'yes' : '',
    s.entriesToMigrate ? String(s.entriesToMigrate) : '',
    [...s.problems.map((p) => `${p.path || '(value)'}: ${p.message}`), ...s.changes.map((c) => `${c.path || '(value)'}: ${c.message}`)].join('; '),
  ]);
  const operators = report.operators.filter((o) => o.status !== 'matched').map((o) => `  operator "${o.uid}": ${operatorText(o)}`);
  io.out(`job ${report.jobName} from savepoint of ${report.savepointJobName} (maxParallelism ${report.maxParallelism.savepoint} to ${report.maxParallelism.job})\n`);
  if (operators.length) io.out(`${operators.join('\n')}\n`);
  io.out(table(io, ['operator', 'state', 'verdict', 'converter', 'to migrate', 'changes'], rows));
  io.out(report.ok ? `${paint(io, 'green', 'SAFE')}: a restore of this savepoint into the job goes ahead.\n` : `${paint(io, 'red', 'UNSAFE')}: a restore would fail with ${report.error!.name}:\n${report.error!.message}\n`);
}

export async function checkWith(io: Io, dir: string, job: JobDeclaration, options: { allowNonRestoredState?: boolean; json?: boolean }): Promise<number> {
  const report = checkUpgrade(await openSavepoint(dir), job, { allowNonRestoredState: options.allowNonRestoredState });
  if (options.json) io.out(json(report, true));
  else printCheck(io, report);
  return report.ok ? EXIT_OK : EXIT_UNSAFE;
}

export async function check(io: Io, dir: string, options: { job?: string; allowNonRestoredState?: boolean; json?: boolean }): Promise<number> {
  if (!options.job) throw new UsageError('check needs --job <module>');
  return checkWith(io, dir, await loadJob(options.job), options);
}
