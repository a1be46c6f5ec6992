import { defineJob, int64, operator, string, valueState } from '@stateshift/core';
import { pojo } from '@stateshift/pojo';

export const job = defineJob({
  name: 'bench',
  maxParallelism: 128,
  operators: [operator({ uid: 'orders', key: string(), states: [valueState('last-order', pojo('Order', { orderId: string(), qty: int64(), channel: { serializer: string(), default: 'web' } }))] })],
});
