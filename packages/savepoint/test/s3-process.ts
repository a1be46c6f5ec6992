/**
 * s3rver in a child process (s3-process.mjs): for synchronous reads, which block this thread while
 * they wait, so a server in this process could never answer them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BUCKET, connectS3, type TestS3 } from './s3-server.js';

export interface ProcessS3 extends TestS3 {
  /** Stops the server process (SIGSTOP): it accepts connections but answers nothing. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
}

export async function startS3Process(): Promise<ProcessS3> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./s3-process.mjs', import.meta.url)), [BUCKET], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the s3rver process exited with code ${code}`)));
  });
  child.removeAllListeners();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const s3 = await connectS3(`http://127.0.0.1:${port}`, async () => {
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await exited;
  });
  return { ...s3, pause: () => child.kill('SIGSTOP'), resume: () => child.kill('SIGCONT') };
}
