import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobDeclaration, StorageOptions } from '@stateshift/core';
import { formatRanges, MAX_LISTED_FAILURES, type EntriesCheck, type OperatorCheck, type RollbackCheck, type UpgradeCheck } from '@stateshift/savepoint';
import type { CheckMessage, CheckTask } from '../check-child.js';
import { checkReport, type CheckOptions, type CheckReport } from '../check-report.js';
import { EXIT_OK, EXIT_UNSAFE, UsageError } from '../errors.js';
import { json, paint, progressBar, table, type Io } from '../io.js';
import { absoluteLocation } from '../flags.js';
import { safe, safeLines } from '../text.js';

function operatorText(o: OperatorCheck): string {
  switch (o.status) {
    case 'renamed':
      return `renamed from "${safe(o.previousUid!)}" (previousUids)`;
    case 'dropped':
      return o.dropReason === 'declared' ? 'dropped (declared in dropOperators)' : 'dropped (allowNonRestoredState)';
    case 'missing':
      return 'only in the savepoint and not declared (a rename: previousUids; on purpose: dropOperators)';
    default:
      return 'new in the job';
  }
}

function stateVerdict(s: UpgradeCheck['states'][number], operatorDropped: boolean): string {
  if (s.verdict !== 'dropped') return s.verdict;
  if (s.dropReason === 'undeclared') return 'not declared';
  if (s.dropReason === 'allowNonRestoredState') return 'dropped (allowNonRestoredState)';
  return operatorDropped ? 'dropped (dropOperators)' : 'dropped (dropStates)';
}

function entriesText(e: EntriesCheck): string {
  return [`${e.passed}/${e.read} pass`, e.merged ? `${e.merged} merged` : '', e.failed ? `${e.failed} fail` : ''].filter(Boolean).join(', ');
}

function scopeText(report: UpgradeCheck): string {
  if (report.scope === 'deep') return 'deep: every stored entry was read through the new readers and converters and written with the new serializers.';
  if (report.scope === 'sample') {
    return `sample: the first ${report.sample} entries of each state were read through the new job; the entries after them were not (--deep reads all).`;
  }
  return 'schema-only: the stored entries were not read, so a converter or a key migration may still fail on a stored value (--deep reads them, --sample n the first n per state).';
}

export function printCheck(io: Io, report: UpgradeCheck & { source?: string }): void {
  const verdictColor = (v: string) => (v === 'incompatible' || v === 'not declared' ? 'red' : v === 'compatibleAsIs' || v === 'new' ? 'green' : 'yellow');
  const droppedOperators = new Set(report.operators.filter((o) => o.status === 'dropped').map((o) => o.uid));
  const read = report.scope !== 'schema';
  // A key's or namespace's problem is the operator's: shown once above the table, referred to in its states' rows.
  const operatorProblems = new Map<string, string[]>();
  for (const s of report.states) {
    for (const p of s.problems.filter(isOperatorProblem)) {
      const list = operatorProblems.get(s.operator) ?? [];
      operatorProblems.set(s.operator, list);
      if (!list.includes(problemText(p))) list.push(problemText(p));
    }
  }
  const rowProblem = (p: Problem) => (isOperatorProblem(p) ? `(${p.role}): the operator's, above` : problemText(p));
  const rows = report.states.map((s) => {
    const verdict = stateVerdict(s, droppedOperators.has(s.operator));
    return [
      safe(s.operator),
      safe(s.state),
      paint(io, verdictColor(verdict), verdict),
      s.converterUsed ? 'yes' : '',
      s.entriesToMigrate ? String(s.entriesToMigrate) : '',
      ...(read ? [s.entries ? paint(io, s.entries.failed ? 'red' : 'green', entriesText(s.entries)) : ''] : []),
      safe([...s.problems.map(rowProblem), ...s.changes.map((c) => `${c.path || '(value)'}: ${c.message}`)].join('; ')),
    ];
  });
  const operators = [
    ...report.operators.filter((o) => o.status !== 'matched').map((o) => `  operator "${safe(o.uid)}": ${operatorText(o)}`),
    ...[...operatorProblems].flatMap(([uid, problems]) => problems.map((p) => `  operator "${safe(uid)}" ${safe(p)}`)),
  ];
  const what = report.source === 'lsm-database' ? 'LSM database (in place)' : 'savepoint';
  io.out(`job ${safe(report.jobName)} from ${what} of ${safe(report.savepointJobName)} (maxParallelism ${report.maxParallelism.savepoint} to ${report.maxParallelism.job})\n`);
  if (report.keyGroups.partial) {
    io.out(
      `  partial: holds key groups ${formatRanges(report.keyGroups.savepoint)} of 0-${report.maxParallelism.savepoint - 1}` +
        `${report.keyGroups.missing.length ? `; lacks ${formatRanges(report.keyGroups.missing)}` : ''}\n`,
    );
  }
  if (operators.length) io.out(`${operators.join('\n')}\n`);
  io.out(table(io, ['operator', 'state', 'verdict', 'converter', 'to migrate', ...(read ? ['entries read'] : []), 'changes'], rows));
  const failures = report.states.flatMap((s) =>
    (s.entries?.failures ?? []).map((f) => {
      const where = [`key ${f.key}`, f.namespace ? `namespace ${f.namespace}` : '', f.mapKey ? `map key ${f.mapKey}` : ''].filter(Boolean).join(', ');
      return `  ${safe(s.operator)}/${safe(s.state)} ${safe(where)}: ${safe(f.error.name)}: ${safe(f.error.message)}`;
    }),
  );
  if (failures.length) io.out(`failures (the first ${MAX_LISTED_FAILURES} per state):\n${failures.join('\n')}\n`);
  io.out(`${scopeText(report)}\n`);
  io.out(
    report.ok
      ? `${paint(io, 'green', 'SAFE')}: a restore of this ${what} into the job goes ahead${report.scope === 'schema' ? ' by the schemas' : report.scope === 'sample' ? ' for the entries sampled' : ''}.\n`
      : `${paint(io, 'red', 'UNSAFE')}: a restore would fail with ${safe(report.error!.name)}:\n${safeLines(report.error!.message)}\n`,
  );
  if (report.rollback) printRollback(io, report, report.rollback);
}

function printRollback(io: Io, report: UpgradeCheck, rollback: RollbackCheck): void {
  const from = rollback.previousJob === 'declaration' ? 'the --previous-job module' : 'the serializers stored in the savepoint';
  io.out(`\nrollback: can the previous version (${from}) read a savepoint this job writes?\n`);
  const yes = (ok: boolean) => paint(io, ok ? 'green' : 'red', ok ? 'yes' : 'no');
  const rows = report.states
    .filter((s) => s.rollback)
    .map((s) => {
      const r = s.rollback!;
      const verdict = r.verdict === 'dropped' ? (r.dropReason === 'undeclared' ? 'not declared' : 'dropped (allowNonRestoredState)') : r.verdict;
      return [safe(s.operator), safe(s.state), yes(r.forward), yes(r.full), verdict, safe(r.problems.map(problemText).join('; '))];
    });
  io.out(table(io, ['operator', 'state', 'FORWARD', 'FULL', 'previous version reads', 'problems'], rows));
  io.out(
    rollback.ok
      ? `${paint(io, 'green', 'ROLLBACK SAFE')}: the previous version restores a savepoint this job writes.\n`
      : `${paint(io, 'red', 'ROLLBACK UNSAFE')}: a restore into the previous version would fail with ${safe(rollback.error!.name)}:\n${safeLines(rollback.error!.message)}\n`,
  );
}

/** Exit code: unsafe when the upgrade would fail, or (checked with --rollback) a rollback would. */
function exitCode(report: UpgradeCheck): number {
  return report.ok && (!report.rollback || report.rollback.ok) ? EXIT_OK : EXIT_UNSAFE;
}

function print(io: Io, report: CheckReport | UpgradeCheck, asJson?: boolean): number {
  if (asJson) io.out(json(report, true));
  else printCheck(io, report);
  return exitCode(report);
}

/** The dry-run against a declaration in this process (the demo). */
export async function checkWith(io: Io, dir: string, job: JobDeclaration, options: CheckOptions & { json?: boolean }): Promise<number> {
  return print(io, await checkReport(dir, job, options), options.json);
}

/** The child's compiled module (when this file runs from sources under a test runner, the built one). */
function childPath(): string {
  const beside = fileURLToPath(new URL('../check-child.js', import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(new URL('../../dist/check-child.js', import.meta.url));
}

class CheckAbortedError extends Error {
  override name = 'CheckAbortedError';
}

function runChild(task: CheckTask, timeoutMs: number, io: Io): Promise<CheckReport> {
  const bar = progressBar(io, 'checking');
  return new Promise<CheckReport>((resolve, reject) => {
    const child = fork(childPath(), [JSON.stringify(task)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    // What the module prints goes to stderr, so --json output stays clean.
    child.stdout!.on('data', (d: Buffer) => io.err(safeLines(d.toString())));
    child.stderr!.on('data', (d: Buffer) => io.err(safeLines(d.toString())));
    let settled = false;
    let loaded = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    // Until the modules load, --timeout bounds loading; then it bounds the time without progress,
    // so a deep check of a large savepoint runs as long as it reads.
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          finish(() => {
            child.kill('SIGKILL');
            reject(
              new CheckAbortedError(
                loaded
                  ? `the check read nothing for ${timeoutMs / 1000} s after the job module ${safe(task.jobModule)} loaded (a converter or serializer of the job may never return); raise --timeout if reading the savepoint is this slow`
                  : `the job module ${safe(task.jobModule)} did not finish loading within ${timeoutMs / 1000} s; a job module only declares (raise --timeout if it is slow to load)`,
              ),
            );
          }),
        timeoutMs,
      );
    };
    arm();
    child.on('message', (m: CheckMessage) => {
      if (m.type === 'loaded' || m.type === 'progress') {
        loaded = true;
        if (m.type === 'progress') bar.update(m.read, m.total);
        return arm();
      }
      finish(() => {
        child.kill();
        if (m.type === 'report') resolve(m.report);
        // The child's error, with its name and stable code (main prints the code in --json output).
        else reject(Object.assign(new Error(m.message), { name: m.name, ...(m.code ? { code: m.code } : {}) }));
      });
    });
    child.on('error', (error) => finish(() => reject(error)));
    child.on('exit', (code, signal) =>
      finish(() =>
        reject(
          new CheckAbortedError(
            `the job module ${safe(task.jobModule)} ended the process (${signal ? `signal ${signal}` : `exit code ${code}`}) before the check finished: ` +
              'a job module only declares; it must not exit, and its top-level await must settle',
          ),
        ),
      ),
    );
  }).finally(() => bar.done());
}

export function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 60_000;
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) throw new UsageError(`--timeout must be a number of seconds above 0, got "${safe(text)}"`);
  return Number(text) * 1000;
}

export function parseSample(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) <= 0) throw new UsageError(`--sample must be a whole number of entries above 0, got "${safe(text)}"`);
  return Number(text);
}

export async function check(
  io: Io,
  dir: string,
  options: Omit<CheckOptions, 'sample'> & { job?: string; previousJob?: string; sample?: string; json?: boolean; timeout?: string; storage?: StorageOptions },
): Promise<number> {
  if (!options.job) throw new UsageError('check needs --job <module>');
  const timeoutMs = parseTimeout(options.timeout);
  const sample = parseSample(options.sample);
  if (sample !== undefined && options.deep) throw new UsageError('give --sample n or --deep, not both: --deep reads every entry');
  const { allowNonRestoredState, allowJobNameChange, allowPartialSavepoint, keyGroups, deep } = options;
  const rollback = !!(options.rollback || options.previousJob);
  const report = await runChild(
    {
      dir: absoluteLocation(dir),
      jobModule: path.resolve(options.job),
      ...(options.previousJob ? { previousJobModule: path.resolve(options.previousJob) } : {}),
      options: { allowNonRestoredState, allowJobNameChange, allowPartialSavepoint, keyGroups, sample, deep, rollback },
      storage: options.storage,
    },
    timeoutMs,
    io,
  );
  return print(io, report, options.json);
}

type Problem = { role: string; path: string; message: string };

/** A problem of the operator's key or namespace serializer, which every state of the operator shares. */
const isOperatorProblem = (p: Problem) => p.role === 'key' || p.role === 'namespace';

/** A problem as the table shows it: where (the field path, after the serializer when it is not the value's), then what. */
function problemText(p: Problem): string {
  const at = p.role === 'value' ? p.path || '(value)' : p.path ? `(${p.role}) ${p.path}` : `(${p.role})`;
  return `${at}: ${p.message}`;
}
