// Type tests, checked by `pnpm typecheck` (tsconfig.test.json): handles are typed from the job's
// declaration; a wrong value type, a wrong state kind and an undeclared state or operator do not compile.
import {
  defineJob,
  int32,
  int64,
  listState,
  mapState,
  operator,
  string,
  valueState,
  type ListStateHandle,
  type MapStateHandle,
  type StateBackend,
  type ValueStateDescriptor,
  type ValueStateHandle,
} from '@stateshift/core';
import { pojo } from '@stateshift/pojo';

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type IsAny<T> = 0 extends 1 & T ? true : false;
/** Compiles only when `T` is exactly `Expected`. */
function exactly<Expected>() {
  return <T>(value: T, ..._check: Equal<T, Expected> extends true ? [] : [never]) => value;
}

const count = valueState('count', int64());
const lastOrder = valueState('last-order', pojo('Order', { orderId: string(), total: int64() }));
const events = listState('events', string());
const byDay = mapState('by-day', string(), int32());
const orders = operator({ uid: 'orders', key: string(), states: [count, lastOrder, events, byDay] });
const sum = valueState('sum', int64());
const windows = operator({ uid: 'windows', key: string(), namespace: int64(), states: [sum] });
const job = defineJob({ name: 'shop', maxParallelism: 128, operators: [orders, windows] });

export function declarationsKeepTheirTypes(): void {
  exactly<ValueStateDescriptor<bigint, 'count'>>()(count);
  exactly<'orders'>()(orders.uid);
  exactly<'count'>()(orders.states[0].name);
  exactly<'windows'>()(job.operators[1].uid);
  exactly<typeof orders>()(job.operators[0]);
}

export function typedHandles(backend: StateBackend<typeof job>): void {
  const op = backend.operator(orders);
  const counter = op.value(count);
  exactly<ValueStateHandle<string, bigint, undefined>>()(counter);
  const c: bigint | undefined = counter.get('u-1');
  exactly<bigint | undefined>()(counter.get('u-1'));
  counter.set('u-1', c ?? 1n);
  exactly<bigint>()(counter.update('u-1', (current) => (current ?? 0n) + 1n));

  // @ts-expect-error count is int64: a string is not a bigint
  counter.set('u-1', 'oops');
  // @ts-expect-error count is int64: a number is not a bigint
  backend.operator(orders).value(count).set('u-1', 1);
  // @ts-expect-error the key is a string
  counter.get(42);
  // @ts-expect-error update must return a bigint
  counter.update('u-1', () => 'oops');

  const order = op.value(lastOrder).get('u-1');
  const orderId: string | undefined = order?.orderId;
  const total: bigint | undefined = order?.total;
  void [orderId, total];
  // @ts-expect-error total is int64 (pojo infers its value type from its fields)
  op.value(lastOrder).set('u-1', { orderId: 'o-1', total: 5 });

  exactly<ListStateHandle<string, string, undefined>>()(op.list(events));
  const list: string[] = op.list(events).get('u-1');
  void list;
  // @ts-expect-error events holds strings
  op.list(events).add('u-1', 5);

  exactly<MapStateHandle<string, string, number, undefined>>()(op.map(byDay));
  const perDay: number | undefined = op.map(byDay).get('u-1', 'mon');
  void perDay;
  // @ts-expect-error by-day values are int32 numbers
  op.map(byDay).put('u-1', 'mon', 'many');
  // @ts-expect-error by-day map keys are strings
  op.map(byDay).put('u-1', 1, 1);

  // Namespaces are typed from the operator's namespace serializer.
  const win = backend.operator(windows).value(sum);
  exactly<bigint | undefined>()(win.get('u-1', 10n));
  // @ts-expect-error the namespace is int64
  win.get('u-1', 'w');
}

export function byName(backend: StateBackend<typeof job>): void {
  exactly<bigint | undefined>()(backend.operator('orders').value('count').get('u-1'));
  exactly<string[]>()(backend.operator('orders').list('events').get('u-1'));
  exactly<number | undefined>()(backend.operator(orders).map('by-day').get('u-1', 'mon'));
  // @ts-expect-error count is int64
  backend.operator('orders').value('count').set('u-1', 'oops');
}

export function wrongKindAndUndeclared(backend: StateBackend<typeof job>): void {
  const op = backend.operator(orders);
  // @ts-expect-error count is a value state, not a list state
  op.list(count);
  // @ts-expect-error count is a value state, not a map state
  op.map('count');
  // @ts-expect-error events is a list state, not a value state
  op.value('events');
  // @ts-expect-error the operator declares no state "nope"
  op.value('nope');
  // @ts-expect-error a descriptor the operator does not declare
  op.value(valueState('other', int64()));
  // @ts-expect-error the job declares no operator "nope"
  backend.operator('nope');
  // @ts-expect-error an operator the job does not declare
  backend.operator(operator({ uid: 'stranger', key: string(), states: [] }));
  // @ts-expect-error windows declares no state "count"
  backend.operator(windows).value(count);
}

export function untypedIsUnknownNeverAny(backend: StateBackend): void {
  // Tools that look states up by name on any job get `unknown`, never `any`.
  const value = backend.operator('orders').value('count').get('u-1');
  exactly<unknown>()(value);
  const notAny: IsAny<typeof value> = false;
  void notAny;
  exactly<unknown[]>()(backend.operator('orders').list('events').get('u-1'));
  const mapValue = backend.operator('orders').map('by-day').get('u-1', 'mon');
  exactly<false>()(false as IsAny<typeof mapValue>);
}
