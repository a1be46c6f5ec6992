/** The `stateshift` command: argument parsing, dispatch, and exit codes. */
import { parseArgs } from 'node:util';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, InterruptedError, UsageError } from './errors.js';
import { storageFlags, storageOptions } from './flags.js';
import { checkHelp, demoHelp, dumpHelp, inspectHelp, mergeHelp, migrateHelp, storageHelp, usage } from './help.js';
import { json, processIo, type Io } from './io.js';
import { safe, safeLines } from './text.js';
import { version } from './version.js';

const helps: Record<string, string> = { inspect: inspectHelp, dump: dumpHelp, check: checkHelp, migrate: migrateHelp, merge: mergeHelp, demo: demoHelp };

const options = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
  job: { type: 'string' },
  out: { type: 'string' },
  operator: { type: 'string' },
  state: { type: 'string' },
  limit: { type: 'string' },
  'key-groups': { type: 'string' },
  workers: { type: 'string' },
  'allow-non-restored-state': { type: 'boolean' },
  'allow-job-name-change': { type: 'boolean' },
  'allow-partial': { type: 'boolean' },
  'allow-gaps': { type: 'boolean' },
  'drop-position': { type: 'boolean' },
  timeout: { type: 'string' },
  sample: { type: 'string' },
  deep: { type: 'boolean' },
  rollback: { type: 'boolean' },
  'previous-job': { type: 'string' },
  orders: { type: 'string' },
  keep: { type: 'boolean' },
  replace: { type: 'boolean' },
  ...storageFlags,
} as const;

/** Runs one command line; returns the exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's message may run over lines: kept as lines, other control characters escaped.
    io.err(`stateshift: ${safeLines((error as Error).message)}\n\n${usage}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.version) {
    io.out(`${version}\n`);
    return EXIT_OK;
  }
  if (!command) {
    io[values.help ? 'out' : 'err'](usage);
    return values.help ? EXIT_OK : EXIT_USAGE;
  }
  if (!helps[command]) {
    io.err(`stateshift: unknown command "${safe(command)}"\n\n${usage}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.out(`${helps[command]}\n${command === 'demo' ? '' : `\n${storageHelp}\n`}`);
    return EXIT_OK;
  }
  try {
    const needsSavepoint = command !== 'demo' && command !== 'merge';
    if (needsSavepoint && rest.length !== 1) throw new UsageError(`${command} needs exactly one savepoint (a directory or an s3://bucket/prefix URL)\n\n${helps[command]}`);
    if (command === 'demo' && rest.length) throw new UsageError(`demo takes no arguments\n\n${helps.demo}`);
    const dir = rest[0];
    const storage = storageOptions(values);
    // Each command's modules load only when it runs: a migrate starts its worker threads before
    // this thread loads the savepoint modules, and --help loads none.
    switch (command) {
      case 'inspect': {
        const { inspect } = await import('./commands/inspect.js');
        return await inspect(io, dir, { json: values.json, storage });
      }
      case 'dump': {
        const { dump } = await import('./commands/dump.js');
        return await dump(io, dir, { operator: values.operator, state: values.state, limit: values.limit, job: values.job, storage });
      }
      case 'check': {
        const { check } = await import('./commands/check.js');
        return await check(io, dir, {
          job: values.job,
          allowNonRestoredState: values['allow-non-restored-state'],
          allowJobNameChange: values['allow-job-name-change'],
          allowPartialSavepoint: values['allow-partial'],
          keyGroups: values['key-groups'],
          sample: values.sample,
          deep: values.deep,
          rollback: values.rollback,
          previousJob: values['previous-job'],
          timeout: values.timeout,
          json: values.json,
          storage,
        });
      }
      case 'merge': {
        const { merge } = await import('./commands/merge.js');
        return await merge(io, rest, { out: values.out, allowGaps: values['allow-gaps'], dropPosition: values['drop-position'], replace: values.replace, json: values.json, storage });
      }
      case 'migrate': {
        const { migrate } = await import('./commands/migrate.js');
        return await migrate(io, dir, {
          job: values.job,
          out: values.out,
          keyGroups: values['key-groups'],
          workers: values.workers,
          allowNonRestoredState: values['allow-non-restored-state'],
          allowJobNameChange: values['allow-job-name-change'],
          replace: values.replace,
          json: values.json,
          storage,
        });
      }
      default: {
        const { demo } = await import('./demo/run.js');
        return await demo(io, { orders: values.orders, keep: values.keep });
      }
    }
  } catch (error) {
    if (error instanceof InterruptedError) {
      // One line after Ctrl-C; nothing at all once the reader of the output has gone.
      if (error.quiet) return EXIT_OK;
      io.err(`stateshift ${command}: ${error.message}\n`);
      return EXIT_INTERRUPTED;
    }
    const [{ describeError, errorMessage }, { StateshiftError }] = await Promise.all([import('./describe-error.js'), import('@stateshift/core')]);
    io.err(`stateshift ${command}: ${describeError(error)}\n`);
    if (values.json) {
      // The stable code of a stateshift error (STATESHIFT_...), for scripts that act on the kind of failure.
      // An error rebuilt from a check's child process carries the code without the class.
      const carried = (error as { code?: unknown })?.code;
      const code = error instanceof StateshiftError ? { code: error.code } : typeof carried === 'string' && carried.startsWith('STATESHIFT_') ? { code: carried } : {};
      io.out(json({ error: { name: (error as Error).name, ...code, message: errorMessage(error) } }));
    }
    return EXIT_USAGE;
  }
}
