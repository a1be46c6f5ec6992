/** `stateshift demo`: the upgrade story end to end, narrated, in a temporary directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StateBackend } from '@stateshift/savepoint';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { checkWith } from '../commands/check.js';
import { inspect } from '../commands/inspect.js';
import { paint, progressBar, type Io } from '../io.js';
import { EXIT_OK, EXIT_UNSAFE } from '../errors.js';
import { ordersV1, ordersV2, ordersV2Converted, USERS, type Order } from './jobs.js';

export const demoHelp = `stateshift demo [--orders n] [--keep]

Runs the upgrade story of the Flink articles stateshift follows, in a temporary directory: an
orders job on the LSM backend stops with a savepoint; version 2 changes orderId from string to int
and adds a field; check refuses it and says why; with a converter check passes; version 2 restores
eagerly and lazily and carries on; inspect shows the final savepoint. --orders sets how many orders
version 1 processes (default 20000); --keep leaves the directory.`;

async function processOrders(backend: StateBackend, from: number, count: number, makeOrder: (i: number) => unknown, onProgress?: (done: number) => void): Promise<void> {
  const op = backend.operator<string>('orders-per-user');
  const counts = op.value<bigint>('count');
  const last = op.value('last-order');
  const recent = op.list<string>('recent-order-ids');
  for (let i = from; i < from + count; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(i + 100, from + count); j++) {
      const user = USERS[j % USERS.length];
      const order = makeOrder(j) as { orderId: unknown };
      batch.push(counts.update(user, (c) => (c ?? 0n) + 1n), last.set(user, order), recent.add(user, String(order.orderId)));
    }
    await Promise.all(batch);
    onProgress?.(Math.min(i + 100, from + count) - from);
  }
}

export async function demo(io: Io, options: { orders?: string; keep?: boolean }): Promise<number> {
  const n = options.orders === undefined ? 20_000 : Number(options.orders);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--orders must be a whole number above 0, got ${options.orders}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'stateshift-demo-'));
  const started = Date.now();
  const timings: [string, number][] = [];
  const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const result = await fn();
    timings.push([label, (Date.now() - t) / 1000]);
    return result;
  };
  const say = (title: string, text = '') => io.out(`\n${paint(io, 'bold', paint(io, 'cyan', `== ${title}`))}\n${text}`);
  const v1Order = (i: number): Order => ({ orderId: `o-${i}`, userId: USERS[i % USERS.length], createTs: 1_700_000_000_000n + BigInt(i) });
  try {
    say('1. Version 1 runs', `An orders job on the LSM backend (${dir}) counts orders per user and keeps each user's last order:\nOrder { orderId: string, userId: string, createTs: int64 }. It processes ${n} generated orders.\n`);
    const v1 = await openLsmBackend({ job: ordersV1, dir: path.join(dir, 'db-v1') });
    const bar = progressBar(io, 'orders');
    await timed(`v1 processes ${n} orders`, () => processOrders(v1, 0, n, v1Order, (d) => bar.update(d, n)));
    bar.done();
    io.out(`joha has ${await v1.operator('orders-per-user').value('count').get('joha')} orders; last: ${JSON.stringify((await v1.operator('orders-per-user').value('last-order').get('joha')) as object, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}\n`);

    const savepoint = path.join(dir, 'savepoint-1');
    say('2. It stops with a savepoint');
    const meta = await timed('savepoint', () => v1.savepoint(savepoint));
    await v1.close();
    io.out(`${savepoint}: ${meta.files.reduce((a, f) => a + f.entries, 0)} entries, serializer snapshots stored beside the data.\n`);

    say('3. Version 2 changes orderId from string to int and adds amount', 'Before deploying, CI runs `stateshift check savepoint-1 --job orders-v2.js`:\n\n');
    const refused = await checkWith(io, savepoint, ordersV2, {});
    io.out(`\nexit code ${refused}: the upgrade is refused before it runs, naming Order.orderId.\n`);
    if (refused !== EXIT_UNSAFE) throw new Error('the demo expected the check to refuse version 2');

    say('4. The converter is added', "valueState('last-order', order, { migrate: (o) => ({ ...o, orderId: Number(o.orderId.replace('o-', '')) }) })\n\n");
    const accepted = await checkWith(io, savepoint, ordersV2Converted, {});
    io.out(`\nexit code ${accepted}.\n`);
    if (accepted !== EXIT_OK) throw new Error('the demo expected the check to pass with the converter');

    say('5. Version 2 restores, eagerly and lazily, and carries on');
    const v2Order = (i: number) => ({ orderId: i, userId: USERS[i % USERS.length], createTs: 1_700_000_000_000n + BigInt(i), amount: (i % 100) + 0.5 });
    const eager = await timed('eager restore (every entry migrated)', () => openLsmBackend({ job: ordersV2Converted, dir: path.join(dir, 'db-eager'), restoreFrom: savepoint, migration: 'eager' }));
    const lazy = await timed('lazy restore (bytes copied only)', () => openLsmBackend({ job: ordersV2Converted, dir: path.join(dir, 'db-lazy'), restoreFrom: savepoint, migration: 'lazy' }));
    const firstRead = await timed('first read after the lazy restore', () => lazy.operator('orders-per-user').value('last-order').get('nina'));
    io.out(`nina's last order, read lazily through the converter: ${JSON.stringify(firstRead, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}\n`);
    await timed('v2 processes 1000 more orders (eager)', () => processOrders(eager, n, 1000, v2Order));
    await timed('v2 processes 1000 more orders (lazy)', () => processOrders(lazy, n, 1000, v2Order));
    io.out(`after ${n + 1000} orders, joha has ${await eager.operator('orders-per-user').value('count').get('joha')} (eager) and ${await lazy.operator('orders-per-user').value('count').get('joha')} (lazy) orders.\n`);
    const savepoint2 = path.join(dir, 'savepoint-2');
    await eager.savepoint(savepoint2);
    await eager.close();
    await lazy.close();

    say('6. `stateshift inspect savepoint-2`', '\n');
    await inspect(io, savepoint2, {});

    say('Timings');
    for (const [label, seconds] of timings) io.out(`${label.padEnd(42)} ${seconds.toFixed(2)} s\n`);
    io.out(`${'total'.padEnd(42)} ${((Date.now() - started) / 1000).toFixed(2)} s\n`);
    return EXIT_OK;
  } finally {
    if (options.keep) io.out(`\nkept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}
