/** The upgrade-story cases as data, so every backend and the dry-run can be checked against them. */
import { deepStrictEqual, equal } from 'node:assert/strict';
import type { JobDeclaration, StateBackend } from '@stateshift/core';
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
  | { ok: true; verify(backend: StateBackend): void }
  | { ok: false; error: 'IncompatibleStateError' | 'RestoreError' | 'MissingAdapterError'; names: string[] };

export interface UpgradeStoryCase {
  name: string;
  before: JobDeclaration;
  write(backend: StateBackend): void;
  after: JobDeclaration;
  options?: { allowNonRestoredState?: boolean };
  expect: StoryExpectation;
}

/** Version 1 runs: every user places orders; counts, last orders, ids and the audit trail are kept. */
export function runOrdersV1(backend: StateBackend): void {
  const op = backend.operator('orders-per-user');
  const audit = backend.operator('order-audit');
  for (let i = 0; i < ORDERS_PER_USER; i++) {
    for (const user of USERS) {
      const order = orderOf(user, i);
      op.value('count').update(user, (c) => ((c as bigint | undefined) ?? 0n) + 1n);
      op.value('last-order').set(user, order);
      op.list('recent-order-ids').add(user, order.orderId);
      op.map('orders-by-day').put(user, `day-${i % 3}`, i);
      audit.list('seen').add(user, order.orderId);
    }
  }
}

const last = ORDERS_PER_USER - 1;

/** What every successful v2 restore still has: counts, ids and maps as v1 left them. */
function verifyCommon(backend: StateBackend, keyOf: (user: string) => unknown = (u) => u): void {
  const op = backend.operator('orders-per-user');
  for (const user of USERS) {
    equal(op.value('count').get(keyOf(user)), BigInt(ORDERS_PER_USER), `count of ${user}`);
    const ids = op.list('recent-order-ids').get(keyOf(user));
    equal(ids.length, ORDERS_PER_USER, `recent order ids of ${user}`);
    equal(ids[0], orderOf(user, 0).orderId);
    equal(op.map('orders-by-day').get(keyOf(user), 'day-0'), 9);
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
      verify(backend) {
        verifyCommon(backend);
        deepStrictEqual(backend.operator('orders-per-user').value('last-order').get('u-2'), { ...orderOf('u-2', last), amount: 0 });
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
      verify(backend) {
        verifyCommon(backend);
        const { orderId, userId } = orderOf('u-1', last);
        deepStrictEqual(backend.operator('orders-per-user').value('last-order').get('u-1'), { orderId, userId });
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
      verify(backend) {
        verifyCommon(backend);
        deepStrictEqual(backend.operator('orders-per-user').value('last-order').get('u-3'), { ...orderOf('u-3', last), orderId: 2000 + last });
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
      verify(backend) {
        verifyCommon(backend);
        deepStrictEqual({ ...(backend.operator('orders-per-user').value('last-order').get('u-4') as object) }, orderOf('u-4', last));
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
      verify(backend) {
        verifyCommon(backend, (u) => Number(u.slice(2)));
        equal(backend.operator('orders-per-user').value('count').get(7), undefined);
      },
    },
  },
];
