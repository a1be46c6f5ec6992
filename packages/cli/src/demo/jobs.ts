/**
 * The demo's orders job, after the Flink articles stateshift follows: orders (orderId, userId,
 * createTs) keyed by userId, counting orders per user and keeping the last one. Version 2 makes
 * orderId an int and adds an amount.
 */
import { defineJob, float64, int32, int64, listState, operator, string, valueState, type Serializer } from '@stateshift/core';
import { pojo } from '@stateshift/pojo';

export interface Order {
  orderId: string;
  userId: string;
  createTs: bigint;
}

const ordersJob = (order: Serializer<unknown>, migrate?: (old: unknown) => unknown) =>
  defineJob({
    name: 'orders',
    maxParallelism: 128,
    operators: [
      operator({
        uid: 'orders-per-user',
        key: string(),
        states: [valueState('count', int64()), valueState('last-order', order, migrate ? { migrate } : {}), listState('recent-order-ids', string())],
      }),
    ],
  });

/** Every version of the job has this shape (only the order serializer changes). */
export type OrdersJob = ReturnType<typeof ordersJob>;

export const ordersV1 = ordersJob(pojo<Order>('Order', { orderId: string(), userId: string(), createTs: int64() }));

const orderV2 = pojo('Order', { orderId: int32(), userId: string(), createTs: int64(), amount: { serializer: float64(), default: 0 } });
/** orderId is now an int; no converter yet. */
export const ordersV2 = ordersJob(orderV2);
/** orderId is now an int, with the converter that turns "o-123" into 123. */
export const ordersV2Converted = ordersJob(orderV2, (old) => {
  const o = old as Order;
  return { ...o, orderId: Number(o.orderId.replace(/^o-/, '')), amount: 0 };
});

export const USERS = ['joha', 'nina', 'gru', 'andi', ...Array.from({ length: 996 }, (_, i) => `user-${i}`)];
