/** The jobs the feature tests run: a counter with value, list and map state, and a windowed sum. */
import { bytes, defineJob, int32, int64, list, listState, map, mapState, operator, string, valueState, type TtlConfig } from '@stateshift/core';
import { pojo } from '@stateshift/pojo';

export const MAX_PARALLELISM = 16;

/** The counts job; with `ttl`, every counter state has that TTL. */
export function countsJob(ttl?: TtlConfig) {
  const options = ttl ? { ttl } : {};
  const count = valueState('count', int64(), options);
  const events = listState('events', string(), options);
  const byDay = mapState('byDay', string(), int32(), options);
  const counter = operator({ uid: 'counter', key: string(), states: [count, events, byDay] });
  const sum = valueState('sum', int64());
  const windows = operator({ uid: 'windows', key: string(), namespace: int64(), states: [sum] });
  const job = defineJob({ name: 'counts', maxParallelism: MAX_PARALLELISM, operators: [counter, windows] });
  return { job, counter, count, events, byDay, windows, sum };
}

export interface Profile {
  name: string;
  tags: string[];
}

/** Values with mutable parts (objects, arrays, maps, bytes), and an int32 for -0. */
export function valuesJob() {
  const profile = valueState('profile', pojo<Profile>('Profile', { name: string(), tags: list(string()) }));
  const numbers = valueState('numbers', list(int32()));
  const scores = valueState('scores', map(string(), int32()));
  const blob = valueState('blob', bytes());
  const small = valueState('small', int32());
  const history = listState('history', pojo<Profile>('Profile', { name: string(), tags: list(string()) }));
  const byName = mapState('byName', string(), pojo<Profile>('Profile', { name: string(), tags: list(string()) }));
  const ints = listState('ints', int32());
  const intsByName = mapState('intsByName', string(), int32());
  const users = operator({ uid: 'users', key: string(), states: [profile, numbers, scores, blob, small, history, byName, ints, intsByName] });
  const job = defineJob({ name: 'values', maxParallelism: MAX_PARALLELISM, operators: [users] });
  return { job, users, profile, numbers, scores, blob, small, history, byName, ints, intsByName };
}
