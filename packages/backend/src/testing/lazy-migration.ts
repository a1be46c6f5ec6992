/**
 * Lazy migration (`supports.lazyMigration`): a restore that migrates values serves them at once,
 * each read through its own version's reader; what is written afterwards is stored at the new
 * version; and a savepoint of the mix restores as if every value had been migrated.
 */
import { deepStrictEqual, equal } from 'node:assert/strict';
import { DataOutput, string } from '@stateshift/core';
import { openSavepoint } from '@stateshift/savepoint';
import { collect, session, type Common } from './common.js';
import { orderOf, ordersV1, ordersV2FieldAdded, ORDERS_PER_USER, USERS } from './jobs.js';
import { runOrdersV1 } from './story.js';

function keyBytes(user: string): string {
  const out = new DataOutput();
  string().serialize(user, out);
  return Buffer.from(out.toBytes()).toString('hex');
}

export function all(test: Common['test'], common: Common): void {
  const { prefix, supports } = common;
  if (!supports.lazyMigration) return;

  test(`${prefix}lazy migration: migrated values are served at once, writes use the new version, and a savepoint of the mix restores`, session(common, async (s) => {
    const v1 = await s.open({ job: ordersV1 });
    runOrdersV1(v1);
    await v1.savepoint(s.path('sp1'));
    await v1.close();

    const last = ORDERS_PER_USER - 1;
    const v2 = await s.open({ job: ordersV2FieldAdded, restoreFrom: s.path('sp1') });
    const lastOrder = v2.operator('orders-per-user').value('last-order');
    deepStrictEqual(lastOrder.get('u-1'), { ...orderOf('u-1', last), amount: 0 });
    lastOrder.set('u-2', { ...orderOf('u-2', 99), amount: 5 });
    await v2.savepoint(s.path('sp2'));

    const savepoint = await openSavepoint(s.path('sp2'));
    const meta = savepoint.metadata.operators.find((o) => o.uid === 'orders-per-user')!;
    const stateIndex = meta.states.findIndex((st) => st.name === 'last-order');
    const newest = meta.states[stateIndex].versions.at(-1)!.id;
    const written = (await collect(savepoint.entries('orders-per-user'))).filter((e) => e.state === stateIndex && Buffer.from(e.key).toString('hex') === keyBytes('u-2'));
    equal(written.length, 1);
    equal(written[0].version, newest, 'a value written after the restore is stored at the newest version');

    const v3 = (await s.open({ job: ordersV2FieldAdded, restoreFrom: s.path('sp2') })).operator('orders-per-user');
    for (const user of USERS) {
      const expected = user === 'u-2' ? { ...orderOf('u-2', 99), amount: 5 } : { ...orderOf(user, last), amount: 0 };
      deepStrictEqual(v3.value('last-order').get(user), expected, user);
      equal(v3.value('count').get(user), BigInt(ORDERS_PER_USER));
    }
  }));
}
