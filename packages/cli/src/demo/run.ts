/** `stateshift demo`: the upgrade story end to end, narrated, in a temporary directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StateBackend } from '@stateshift/core';
import { openLsmBackend } from '@stateshift/backend-lsm';
import { checkWith } from '../commands/check.js';
import { inspect } from '../commands/inspect.js';
import { paint, progressBar, type Io } from '../io.js';
import { EXIT_OK, EXIT_UNSAFE } from '../errors.js';
import { wholeNumber } from '../flags.js';
import { interruptible } from '../interrupt.js';
import { ordersV1, ordersV2, ordersV2Converted, USERS, type Order, type OrdersJob } from './jobs.js';


/** What a consumer commits with its state: the number of orders processed. */
const positionOf = (orders: number) => new TextEncoder().encode(String(orders));
export const ordersIn = (position: Uint8Array | undefined) => (position ? Number(new TextDecoder().decode(position)) : 0);

/**
 * The job's loop: per order, count it, keep it as the user's last order and keep the user's last 10
 * order ids; a checkpoint with the position every 1000 orders. State access is synchronous.
 */
async function processOrders(backend: StateBackend<OrdersJob>, from: number, count: number, makeOrder: (i: number) => unknown, signal: AbortSignal, onProgress?: (done: number) => void): Promise<void> {
  const op = backend.operator('orders-per-user');
  const counts = op.value('count');
  const last = op.value('last-order');
  const recent = op.list('recent-order-ids');
  for (let i = from; i < from + count; i++) {
    const user = USERS[i % USERS.length];
    const order = makeOrder(i) as { orderId: unknown };
    counts.update(user, (c) => (c ?? 0n) + 1n);
    last.set(user, order);
    const ids = recent.get(user);
    ids.push(String(order.orderId));
    recent.update(user, ids.slice(-10));
    if ((i + 1 - from) % 1000 === 0 || i + 1 === from + count) {
      await backend.checkpoint({ position: positionOf(i + 1) });
      onProgress?.(i + 1 - from);
      signal.throwIfAborted();
    }
  }
}

export async function demo(io: Io, options: { orders?: string; keep?: boolean }): Promise<number> {
  const n = wholeNumber('orders', options.orders, 1) ?? 20_000;
  // Ctrl-C, or a reader that goes away (`stateshift demo | head`), stops it at its next step; the directory goes with it.
  const what = options.keep ? 'the demo was interrupted; its directory is kept (--keep)' : 'the demo was interrupted; its temporary directory was removed';
  return interruptible(what, (signal) => demoSteps(io, n, !!options.keep, signal));
}

async function demoSteps(io: Io, n: number, keep: boolean, signal: AbortSignal): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stateshift-demo-'));
  const started = Date.now();
  const timings: [string, number][] = [];
  const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    signal.throwIfAborted();
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
    await timed(`v1 processes ${n} orders`, () => processOrders(v1, 0, n, v1Order, signal, (d) => bar.update(d, n)));
    bar.done();
    io.out(`joha has ${v1.operator('orders-per-user').value('count').get('joha')} orders; last: ${JSON.stringify(v1.operator('orders-per-user').value('last-order').get('joha') as object, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}\n`);

    const savepoint = path.join(dir, 'savepoint-1');
    say('2. It stops with a savepoint');
    const meta = await timed('savepoint', () => v1.savepoint(savepoint));
    io.out(`the savepoint carries the position: version 2 resumes after order ${ordersIn(v1.position)}.\n`);
    await v1.close();
    io.out(`${savepoint}: ${meta.entries} entries and the position (${ordersIn(v1.position)} orders processed), serializer snapshots stored beside the data.\n`);

    say('3. Version 2 changes orderId from string to int and adds amount', 'Before deploying, CI runs `stateshift check savepoint-1 --job orders-v2.js`:\n\n');
    const refused = await checkWith(io, savepoint, ordersV2, {});
    io.out(`\nexit code ${refused}: the upgrade is refused before it runs, naming Order.orderId.\n`);
    if (refused !== EXIT_UNSAFE) throw new Error('the demo expected the check to refuse version 2');

    say('4. The converter is added', "valueState('last-order', order, { migrate: (o) => ({ ...o, orderId: Number(o.orderId.replace('o-', '')) }) })\n\n");
    const accepted = await checkWith(io, savepoint, ordersV2Converted, {});
    io.out(`\nexit code ${accepted}.\n`);
    if (accepted !== EXIT_OK) throw new Error('the demo expected the check to pass with the converter');

    say('5. Version 2 restores, eagerly, lazily and in place, and carries on');
    const v2Order = (i: number) => ({ orderId: i, userId: USERS[i % USERS.length], createTs: 1_700_000_000_000n + BigInt(i), amount: (i % 100) + 0.5 });
    const eager = await timed('eager restore (every entry migrated)', () => openLsmBackend({ job: ordersV2Converted, dir: path.join(dir, 'db-eager'), restoreFrom: savepoint, migration: 'eager' }));
    const lazy = await timed('lazy restore (bytes copied only)', () => openLsmBackend({ job: ordersV2Converted, dir: path.join(dir, 'db-lazy'), restoreFrom: savepoint, migration: 'lazy' }));
    const firstRead = await timed('first read after the lazy restore', async () => lazy.operator('orders-per-user').value('last-order').get('nina'));
    const inPlace = await timed('in-place restore (nothing copied)', () =>
      openLsmBackend({ job: ordersV2Converted, dir: path.join(dir, 'db-in-place'), restoreFrom: savepoint, restore: 'in-place' }),
    );
    const inPlaceRead = await timed('first read after the restore in place', async () => inPlace.operator('orders-per-user').value('last-order').get('nina'));
    io.out(`read in place from the savepoint's files, through the same converter: ${JSON.stringify(inPlaceRead, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}\n`);
    await inPlace.close();
    io.out(`nina's last order, read lazily through the converter: ${JSON.stringify(firstRead, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}\n`);
    await timed('v2 processes 1000 more orders (eager)', () => processOrders(eager, ordersIn(eager.position), 1000, v2Order, signal));
    await timed('v2 processes 1000 more orders (lazy)', () => processOrders(lazy, ordersIn(lazy.position), 1000, v2Order, signal));
    io.out(`after ${n + 1000} orders, joha has ${eager.operator('orders-per-user').value('count').get('joha')} (eager) and ${lazy.operator('orders-per-user').value('count').get('joha')} (lazy) orders.\n`);
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
    if (keep) io.out(`\nkept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}
