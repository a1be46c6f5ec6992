/**
 * The command line's help: every command's text, here rather than beside the command, so that
 * `--help` and usage errors load none of the commands' modules.
 */
export const storageHelp = `Locations are directories or s3://bucket/prefix URLs. For S3-compatible stores (MinIO, R2, ...):
  --s3-endpoint url      e.g. http://127.0.0.1:9000 (MinIO) or https://<account>.r2.cloudflarestorage.com (R2)
  --s3-region name       default: the SDK's (AWS_REGION, the profile), or us-east-1 with --s3-endpoint
  --s3-force-path-style  the bucket in the path, not the host name (the default with --s3-endpoint)
Credentials come from the AWS SDK's standard chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, web identity, the instance or container role.`;

export const usage = `stateshift: keyed state that survives upgrades

usage: stateshift <command> [options]

commands:
  inspect <savepoint>                      operators, states, schemas, sizes
  dump <savepoint> --operator --state      a state's entries as JSON lines
  check <savepoint | lsm-dir> --job <module>   upgrade dry-run (--deep reads the data, --rollback; exit 0 safe, 1 unsafe, 2 error)
  migrate <savepoint> --job <module> --out <dir>   offline eager migration (--key-groups a-b: one range)
  merge <savepoint>... --out <dir>         join partial savepoints of disjoint key-group ranges
  demo                                     the upgrade story, end to end

Run stateshift <command> --help for a command's options; stateshift --version for the version.

${storageHelp}
`;

export const inspectHelp = `stateshift inspect <savepoint> [--json]

Lists the savepoint's job, the key groups it holds (partial when fewer than all), operators and
states with their schemas, entry counts and sizes. Reads only the metadata. Schemas of every format
the CLI ships with (pojo, Avro, Protobuf, Thrift), and of any adapter installed in the current
project, are decoded; others show as opaque with the package that reads them.`;

export const dumpHelp = `stateshift dump <savepoint> --operator <uid> --state <name> [--limit n] [--job <module>]

Prints a keyed state's entries as JSON lines: {"key", "namespace", "mapKey", "value", "keyGroup", "version"}.
Values are decoded with the snapshots stored in the savepoint (every format the CLI ships with, and
any adapter installed in the current project, is loaded as the savepoint names it), or read through
the job module's declaration (--job: migrated as a restore would). bigint values print as
{"$bigint": "12"}, bytes as {"$bytes": base64}, Map as {"$map": [[k, v]]}, Set as {"$set": [...]},
NaN, Infinity, -Infinity and -0 as {"$number": "NaN"} (and so on).`;

export const checkHelp = `stateshift check <savepoint | lsm-database-dir> --job <module> [--sample n | --deep]
    [--rollback] [--previous-job <module>] [--allow-non-restored-state] [--allow-job-name-change]
    [--allow-partial] [--key-groups a-b] [--timeout seconds] [--json]

The upgrade dry-run: applies the restore rules to the savepoint and the job module's declaration,
exactly as a restore would. Exit code 0 when the upgrade is safe, 1 when a restore would fail (the
reasons are printed), 2 for usage or I/O errors. --json prints the report.

By default the check is schema-only: it reads the savepoint's metadata, not its data, so a
converter or a key migration may still fail on a stored value. --deep reads every stored entry as
a restore does: through the new readers and converters, written again with the new serializers,
looking for keys (namespaces, map keys) that collide once migrated (a state with mergeOnCollision
reports them as merged). SAFE after --deep means the restore will succeed. --sample n reads only
the first n entries of each state. Per state the report gives how many entries pass and the first
failures (up to 5) with their keys.

--rollback also asks whether the previous version of the job could read a savepoint this job
writes (Confluent's FORWARD; with the upgrade itself, FULL), per state, so a deploy can be rolled
back. The previous version is the serializers stored in the savepoint, or --previous-job <module>
(which implies --rollback). With --rollback, the exit code is 1 also when a rollback would fail.

Given an LSM database directory (of @stateshift/backend-lsm, with no job running on it), it checks
reopening that database in place with the new job (schema-only). A partial savepoint (one that holds
fewer than all key groups) is unsafe for an instance that serves key groups it lacks: --key-groups
a-b names the instance's range (default all), --allow-partial accepts starting the missing ones empty.

The job modules are loaded in a child process; the check counts only when it finishes there. A
module that exits the process, hangs or does not load within --timeout seconds (default 60) is an
error (exit 2): a job module only declares. A sample or deep check then runs as long as it reads
(with a progress bar on a terminal); --timeout also bounds the time it goes without reading.`;

export const migrateHelp = `stateshift migrate <savepoint> --job <module> --out <dir> [--key-groups a-b] [--workers n]
    [--allow-non-restored-state] [--allow-job-name-change] [--replace] [--json]

Offline eager migration: writes a new savepoint at --out in which every entry is read as the job
module's declaration reads it (migrations, converters, re-keying, renames and drops the job
declares) and written with its serializers. A job with another maxParallelism rescales. The source
is never modified; --out must not exist or be empty, and not be inside the source; _metadata is
written last. --key-groups a-b writes only that range, as a partial savepoint that says so (split
the work across processes or machines, then join the parts with stateshift merge); --workers n
splits the range into n parts of about equal bytes, one in this thread and the others in worker
threads (more workers than cores only adds overhead: a warning says so).
--replace first removes what a migrate that never committed left at --out (a process killed
midway: its _lock and data files), so that range is simply run again; a committed savepoint
(_metadata) is never removed, nor the output of a writer still running on this host.
Ctrl-C removes what the migration had written, then exits with 130.`;

export const mergeHelp = `stateshift merge <savepoint>... --out <dir> [--allow-gaps] [--drop-position] [--replace] [--json]

Joins partial savepoints (written by the instances of a job, or by migrate --key-groups in
separate processes or machines) into one savepoint at --out. The parts must be of one job, one
maxParallelism and one layout, and hold disjoint key-group ranges: an overlap is refused, and so is
a key group no part holds, unless --allow-gaps (the result then stays partial and says so). Data
files are copied and verified; the parts are never modified; _metadata is written last. The
application position the parts carry is kept when they all carry the same one; parts with different
positions (one per instance) are refused unless --drop-position (the result records none).
--replace first removes what a merge that never committed left at --out (a process killed
midway: its _lock and data files), never a committed savepoint nor the output of a writer still
running on this host. Ctrl-C removes what the merge had written, then exits with 130.`;

export const demoHelp = `stateshift demo [--orders n] [--keep]

Runs the upgrade story of the Flink articles stateshift follows, in a temporary directory: an
orders job on the LSM backend stops with a savepoint; version 2 changes orderId from string to int
and adds a field; check refuses it and says why; with a converter check passes; version 2 restores
eagerly, lazily and in place and carries on; inspect shows the final savepoint. --orders sets how many orders
version 1 processes (default 20000); --keep leaves the directory.`;
