/**
 * The orders job of the upgrade story (after the Flink articles this project follows): a source of
 * orders (orderId, userId, createTs) keyed by userId, counting orders per user and keeping the last
 * order, with an audit operator beside it. Each later version changes one thing.
 */
import { defineJob, float64, int32, int64, listState, mapState, operator, string, valueState, type Serializer, type StateDescriptor } from '@stateshift/core';
import { avro } from '@stateshift/avro';
import { pojo } from '@stateshift/pojo';

export const USERS = ['u-1', 'u-2', 'u-3', 'u-4'];
export const ORDERS_PER_USER = 10;
export const MAX_PARALLELISM = 128;

export interface OrderV1 {
  orderId: string;
  userId: string;
  createTs: bigint;
}

export const orderV1 = () => pojo<OrderV1>('Order', { orderId: string(), userId: string(), createTs: int64() });

/** The per-user operator with a given order serializer (and options for the last-order state). */
export function ordersJob(order: Serializer<unknown>, options: { migrate?: (old: unknown) => unknown; audit?: boolean; key?: Serializer<unknown>; migrateKey?: (old: unknown) => unknown } = {}) {
  const states: StateDescriptor[] = [
    valueState('count', int64()),
    valueState('last-order', order, options.migrate ? { migrate: options.migrate } : {}),
    listState('recent-order-ids', string()),
    mapState('orders-by-day', string(), int32()),
  ];
  return defineJob({
    name: 'orders',
    maxParallelism: MAX_PARALLELISM,
    operators: [
      operator({ uid: 'orders-per-user', key: options.key ?? string(), states, ...(options.migrateKey ? { migrateKey: options.migrateKey } : {}) }),
      ...(options.audit === false ? [] : [operator({ uid: 'order-audit', key: string(), states: [listState('seen', string())] })]),
    ],
  });
}

export const ordersV1 = ordersJob(orderV1());

/** v2: a field added (amount, default 0). */
export const ordersV2FieldAdded = ordersJob(pojo('Order', { orderId: string(), userId: string(), createTs: int64(), amount: { serializer: float64(), default: 0 } }));
/** v2: a field removed (createTs). */
export const ordersV2FieldRemoved = ordersJob(pojo('Order', { orderId: string(), userId: string() }));
/** v2: orderId from string to int, without a converter. */
export const ordersV2OrderIdInt = ordersJob(pojo('Order', { orderId: int32(), userId: string(), createTs: int64() }));
/** v2: orderId from string to int, with a converter. */
export const ordersV2OrderIdIntConverted = ordersJob(pojo('Order', { orderId: int32(), userId: string(), createTs: int64() }), {
  migrate: (old) => {
    const o = old as OrderV1;
    return { ...o, orderId: Number(o.orderId.replace(/^o-/, '')) };
  },
});
/** v2: the audit operator removed. */
export const ordersV2AuditRemoved = ordersJob(orderV1(), { audit: false });
/** v2: user ids become numbers (u-3 to 3): the key serializer changes, entries are re-keyed. */
export const ordersV2NumericUserIds = ordersJob(orderV1(), { key: int32(), migrateKey: (old) => Number(String(old).replace(/^u-/, '')) });

export function orderOf(user: string, i: number): OrderV1 {
  return { orderId: `o-${USERS.indexOf(user) * 1000 + i}`, userId: user, createTs: 1_700_000_000_000n + BigInt(i) };
}

const orderAvro = () =>
  avro({
    type: 'record',
    name: 'Order',
    fields: [
      { name: 'orderId', type: 'string' },
      { name: 'userId', type: 'string' },
      { name: 'createTs', type: 'long' },
    ],
  });
/** v2: the order state moves from pojo to Avro, without a converter. */
export const ordersV2Avro = ordersJob(orderAvro());
/** v2: the order state moves from pojo to Avro; the converter carries the fields over. */
export const ordersV2AvroConverted = ordersJob(orderAvro(), { migrate: (old) => ({ ...(old as OrderV1) }) });
