/** States of different formats (built-in, pojo, Avro; a pojo key) in one operator restore together. */
import { deepStrictEqual, equal } from 'node:assert/strict';
import { defineJob, int32, int64, mapState, operator, string, valueState } from '@stateshift/core';
import { avro } from '@stateshift/avro';
import { pojo } from '@stateshift/pojo';
import { session, type Common } from './common.js';
import { MAX_PARALLELISM } from './fixtures.js';

interface UserKey {
  tenant: string;
  id: number;
}

function mixedJob() {
  const builtin = valueState('builtin', int64());
  const plain = valueState('pojo', pojo<{ a: string }>('P', { a: string() }));
  const record = valueState('avro', avro({ type: 'record', name: 'A', fields: [{ name: 'n', type: 'long' }] }));
  const byId = mapState('map', int32(), pojo<{ v: bigint }>('V', { v: int64() }));
  const mixed = operator({ uid: 'mixed', key: pojo<UserKey>('UserKey', { tenant: string(), id: int32() }), states: [builtin, plain, record, byId] });
  return { job: defineJob({ name: 'mixed', maxParallelism: MAX_PARALLELISM, operators: [mixed] }), mixed, builtin, plain, record, byId };
}

export function all(test: Common['test'], common: Common): void {
  const { prefix } = common;

  test(`${prefix}mixed formats: built-in, pojo and Avro states under a pojo key restore together`, session(common, async (s) => {
    const { job, mixed, builtin, plain, record, byId } = mixedJob();
    const backend = await s.open({ job });
    const op = backend.operator(mixed);
    const key = { tenant: 't', id: 1 };
    op.value(builtin).set(key, 5n);
    op.value(plain).set(key, { a: 'x' });
    op.value(record).set(key, { n: 4n });
    op.map(byId).put(key, 3, { v: 9n });
    op.value(builtin).set({ tenant: 't', id: 2 }, 6n);
    // A key is found by value, not by identity.
    equal(op.value(builtin).get({ tenant: 't', id: 1 }), 5n);
    const location = s.path('sp');
    await backend.savepoint(location);
    const r = (await s.open({ job, restoreFrom: location })).operator(mixed);
    equal(r.value(builtin).get({ tenant: 't', id: 1 }), 5n);
    equal(r.value(builtin).get({ tenant: 't', id: 2 }), 6n);
    deepStrictEqual(r.value(plain).get({ tenant: 't', id: 1 }), { a: 'x' });
    deepStrictEqual(r.map(byId).get({ tenant: 't', id: 1 }, 3), { v: 9n });
    deepStrictEqual({ ...(r.value(record).get({ tenant: 't', id: 1 }) as object) }, { n: 4n });
  }));
}
