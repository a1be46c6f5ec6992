import { spawnSync, type SpawnSyncOptions } from 'node:child_process';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws with its output when it fails (unless `allowFailure`). */
export function run(command: string, args: string[], options: SpawnSyncOptions & { allowFailure?: boolean } = {}): RunResult {
  const { allowFailure, ...spawnOptions } = options;
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...spawnOptions });
  const out = { status: result.status, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  if (result.error) throw result.error;
  if (!allowFailure && out.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${out.status}\n--- stdout\n${out.stdout}\n--- stderr\n${out.stderr}`);
  }
  return out;
}
