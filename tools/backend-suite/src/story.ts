/** The upgrade-story cases as data, so every backend and the dry-run can be checked against them. */
import { expect } from 'vitest';
import type { JobDeclaration } from '@stateshift/core';
import type { StateBackend } from '@stateshift/savepoint';
import {
  orderOf,
  ordersV1,
  ordersV2AuditRemoved,
  ordersV2Avro,
  ordersV2AvroConverted,
  ordersV2FieldAdded,
  ordersV2FieldRemoved,
  ordersV2NumericUserIds,
  ordersV2OrderIdInt,
  ordersV2OrderIdIntConverted,
  ORDERS_PER_USER,
  USERS,
} from './jobs.js';

export type StoryExpectation =
  | { ok: true; verify(backend: StateBackend): Promise<void> }
  | { ok: false; error: 'IncompatibleStateError' | 'RestoreError' | 'MissingAdapterError'; names: string[] };

export interface UpgradeStoryCase {
  name: string;
  before: JobDeclaration;
  write(backend: StateBackend): Promise<void>;
  after: JobDeclaration;
  options?: { allowNonRestoredState?: boolean };
  expect: StoryExpectation;
}

/** Version 1 runs: every user places orders; counts, last orders, ids and the audit trail are kept. */
export async function runOrdersV1(backend: StateBackend): Promise<void> {
  const op = backend.operator<string>('orders-per-user');
  const audit = backend.operator<string>('order-audit');
  for (let i = 0; i < ORDERS_PER_USER; i++) {
    for (const user of USERS) {
      const order = orderOf(user, i);
      await op.value<bigint>('count').update(user, (c) => (c ?? 0n) + 1n);
      await op.value('last-order').set(user, order);
      await op.list<string>('recent-order-ids').add(user, order.orderId);
      await op.map<string, number>('orders-by-day').put(user, `day-${i % 3}`, i);
      await audit.list<string>('seen').add(user, order.orderId);
    }
  }
}

const last = ORDERS_PER_USER - 1;

/** What every successful v2 restore still has: counts, ids and maps as v1 left them. */
async function verifyCommon(backend: StateBackend, keyOf: (user: string) => unknown = (u) => u): Promise<void> {
  const op = backend.operator('orders-per-user');
  for (const user of USERS) {
    expect(await op.value('count').get(keyOf(user))).toBe(BigInt(ORDERS_PER_USER));
    const ids = await op.list('recent-order-ids').get(keyOf(user));
    expect(ids).toHaveLength(ORDERS_PER_USER);
    expect(ids[0]).toBe(orderOf(user, 0).orderId);
    expect(await op.map('orders-by-day').get(keyOf(user), 'day-0')).toBe(9);
  }
}

export const upgradeStoryCases: UpgradeStoryCase[] = [
  {
    name: 'a field added (amount) takes its default',
    before: ordersV1,
    write: runOrdersV1,
    after: ordersV2FieldAdded,
    expect: {
      ok: true,
      async verify(backend) {
        await verifyCommon(backend);
        expect(await backend.operator('orders-per-user').value('last-order').get('u-2')).toEqual({ ...orderOf('u-2', last), amount: 0 });
      },
    },
  },
  {
    name: 'a field removed (createTs) is dropped',
    before: ordersV1,
    write: runOrdersV1,
    after: ordersV2FieldRemoved,
    expect: {
      ok: true,
      async verify(backend) {
        await verifyCommon(backend);
        const { orderId, userId } = orderOf('u-1', last);
        expect(await backend.operator('orders-per-user').value('last-order').get('u-1')).toEqual({ orderId, userId });
      },
    },
  },
  {
    name: 'orderId from string to int without a converter is refused, naming orderId',
    before: ordersV1,
    write: runOrdersV1,
    after: ordersV2OrderIdInt,
    expect: { ok: false, error: 'IncompatibleStateError', names: ['orders-per-user', 'last-order', 'Order.orderId'] },
  },
  {
    name: 'orderId from string to int with a converter restores',
    before: ordersV1,
    write: runOrdersV1,
    after: ordersV2OrderIdIntConverted,
    expect: {
      ok: true,
      async verify(backend) {
        await verifyCommon(backend);
        expect(await backend.operator('orders-per-user').value('last-order').get('u-3')).toEqual({ ...orderOf('u-3', last), orderId: 2000 + last });
      },
    },
  },
  {
    name: 'an operator removed is refused, naming it',
    before: ordersV1,
    write: runOrdersV1,
    after: ordersV2AuditRemoved,
    expect: { ok: false, error: 'RestoreError', names: ['order-audit', 'allowNonRestoredState'] },
  },
  {
    name: 'an operator removed restores with allowNonRestoredState',
    before: ordersV1,
    write: runOrdersV1,
    after: ordersV2AuditRemoved,
    options: { allowNonRestoredState: true },
    expect: { ok: true, verify: (backend) => verifyCommon(backend) },
  },
  {
    name: 'the state moved from pojo to Avro without a converter is refused',
    before: ordersV1,
    write: runOrdersV1,
    after: ordersV2Avro,
    expect: { ok: false, error: 'IncompatibleStateError', names: ['last-order', 'pojo', 'avro', 'migrate'] },
  },
  {
    name: 'the state moved from pojo to Avro with a converter restores',
    before: ordersV1,
    write: runOrdersV1,
    after: ordersV2AvroConverted,
    expect: {
      ok: true,
      async verify(backend) {
        await verifyCommon(backend);
        expect({ ...((await backend.operator('orders-per-user').value('last-order').get('u-4')) as object) }).toEqual(orderOf('u-4', last));
      },
    },
  },
  {
    name: 'keys migrate (user ids become numbers) and entries are re-keyed',
    before: ordersV1,
    write: runOrdersV1,
    after: ordersV2NumericUserIds,
    expect: {
      ok: true,
      async verify(backend) {
        await verifyCommon(backend, (u) => Number(u.slice(2)));
        expect(await backend.operator('orders-per-user').value('count').get(7)).toBeUndefined();
      },
    },
  },
];
