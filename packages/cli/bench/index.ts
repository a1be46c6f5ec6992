/** `stateshift migrate` of BENCH_ENTRIES entries (default 1 million) with 2 workers against 1. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportManual, timeIt } from '@stateshift/bench';
import { bootstrapSavepoint } from '@stateshift/savepoint';
import { main, type Io } from '../src/index.js';
import { loadJob } from '../src/load-job.js';

const N = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const io: Io = { out: () => undefined, err: (t) => process.stderr.write(t), tty: false, errTty: false, color: false };
const dir = await mkdtemp(join(tmpdir(), 'stateshift-cli-bench-'));
try {
  const src = join(dir, 'src');
  const v1 = await loadJob(here('./job-v1.mjs'));
  await bootstrapSavepoint(
    src,
    v1,
    (function* () {
      for (let i = 0; i < N; i++) yield { operator: 'orders', state: 'last-order', key: `user-${i}`, value: { orderId: `o-${i}`, qty: i % 10 } };
    })(),
  );
  const times: Record<string, number> = {};
  for (const workers of ['1', '2']) {
    times[workers] = await timeIt(async () => {
      const code = await main(['migrate', src, '--job', here('./job-v2.mjs'), '--out', join(dir, `out-${workers}`), '--workers', workers], io);
      if (code !== 0) throw new Error(`migrate --workers ${workers} exited with ${code}`);
    });
  }
  reportManual('cli', [
    { group: `migrate ${N} entries`, case: '--workers 1', seconds: times['1'], items: N, baseline: true },
    { group: `migrate ${N} entries`, case: '--workers 2', seconds: times['2'], items: N, target: 1.1 },
  ]);
} finally {
  await rm(dir, { recursive: true, force: true });
}
