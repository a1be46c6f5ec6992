// An S3-compatible server (s3rver) in a process of its own, for tests whose reads block their own
// thread (synchronous reads): it sends { port } over IPC once its bucket exists, and stops on SIGTERM.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

const directory = await mkdtemp(join(tmpdir(), 'stateshift-s3rver-'));
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: process.argv[2] }] });
const { port } = await server.run();
process.send({ port });
const stop = async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
