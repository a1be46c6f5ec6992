import { describe, expect, test } from 'vitest';
import {
  DataInput,
  DataOutput,
  defineJob,
  DuplicatePackageError,
  IncompatibleStateError,
  int32,
  int64,
  listState,
  mapState,
  MissingAdapterError,
  OpaqueSnapshot,
  operator,
  RestoreError,
  string,
  valueState,
  type JobDeclaration,
  type Serializer,
} from '@stateshift/core';
import { layoutOfJob, planRestore, type SavepointMetadata } from '../src/index.js';

function metadataOf(job: JobDeclaration): SavepointMetadata {
  return { ...layoutOfJob(job), createdAt: 0, files: [] };
}

const v1 = defineJob({
  name: 'orders',
  maxParallelism: 128,
  operators: [
    operator({ uid: 'counter', key: string(), states: [valueState('count', int32()), listState('ids', string())] }),
    operator({ uid: 'audit', key: string(), states: [valueState('last', string())] }),
  ],
});

function v2(states: Parameters<typeof operator>[0]['states'], extra: Parameters<typeof defineJob>[0]['operators'] = []) {
  return defineJob({ name: 'orders', maxParallelism: 128, operators: [operator({ uid: 'counter', key: string(), states }), ...extra] });
}

const audit = operator({ uid: 'audit', key: string(), states: [valueState('last', string())] });

describe('planRestore', () => {
  test('an unchanged job restores as is', () => {
    const plan = planRestore(metadataOf(v1), v1);
    expect(plan.ok).toBe(true);
    expect(plan.operators.map((o) => [o.uid, o.status])).toEqual([['counter', 'matched'], ['audit', 'matched']]);
    expect(plan.operators[0].states.map((s) => s.verdict)).toEqual(['compatibleAsIs', 'compatibleAsIs']);
  });

  test('a widening migrates and its reader converts old bytes', () => {
    const plan = planRestore(metadataOf(v1), v2([valueState('count', int64()), listState('ids', string())], [audit]));
    expect(plan.ok).toBe(true);
    const count = plan.operators[0].states[0];
    expect(count.verdict).toBe('compatibleAfterMigration');
    expect(count.migrate).toBe(true);
    const out = new DataOutput();
    int32().serialize(41, out);
    expect(count.values[0].reader!.deserialize(new DataInput(out.toBytes()))).toBe(41n);
  });

  test('every incompatible state is reported at once, naming operator and state', () => {
    const plan = planRestore(metadataOf(v1), v2([valueState('count', string()), listState('ids', int32())], [audit]));
    expect(plan.ok).toBe(false);
    expect(plan.error).toBeInstanceOf(IncompatibleStateError);
    const states = (plan.error as IncompatibleStateError).states;
    expect(states.map((s) => `${s.operator}/${s.state}/${s.role}`)).toEqual(['counter/count/value', 'counter/ids/value']);
    expect(plan.error!.message).toMatch(/migrate/);
  });

  test('a converter makes an incompatible state a migration', () => {
    const job = v2([valueState('count', string(), { migrate: (old) => `#${old as number}` }), listState('ids', string())], [audit]);
    const plan = planRestore(metadataOf(v1), job);
    expect(plan.ok).toBe(true);
    const count = plan.operators[0].states[0];
    expect(count.converterUsed).toBe(true);
    expect(count.verdict).toBe('compatibleAfterMigration');
    const out = new DataOutput();
    int32().serialize(7, out);
    expect(count.values[0].reader!.deserialize(new DataInput(out.toBytes()))).toBe('#7');
  });

  test('a missing operator fails unless allowNonRestoredState', () => {
    const job = v2([valueState('count', int32()), listState('ids', string())]);
    const refused = planRestore(metadataOf(v1), job);
    expect(refused.error).toBeInstanceOf(RestoreError);
    expect(refused.error!.message).toMatch(/operator "audit"/);
    const allowed = planRestore(metadataOf(v1), job, { allowNonRestoredState: true });
    expect(allowed.ok).toBe(true);
    expect(allowed.operators.find((o) => o.uid === 'audit')!.status).toBe('onlyInSavepoint');
  });

  test('a dropped state fails unless allowNonRestoredState; new states and operators are fine', () => {
    const job = v2([valueState('count', int32()), valueState('fresh', string())], [audit, operator({ uid: 'new', key: string(), states: [] })]);
    const plan = planRestore(metadataOf(v1), job);
    expect(plan.error!.message).toMatch(/state "counter"\/"ids"/);
    const allowed = planRestore(metadataOf(v1), job, { allowNonRestoredState: true });
    expect(allowed.ok).toBe(true);
    expect(allowed.operators[0].states.map((s) => [s.state, s.status])).toEqual([['count', 'restored'], ['ids', 'dropped'], ['fresh', 'new']]);
    expect(allowed.operators.find((o) => o.uid === 'new')!.status).toBe('onlyInJob');
  });

  test('maxParallelism must match', () => {
    const job = defineJob({ name: 'orders', maxParallelism: 64, operators: v1.operators as never });
    const plan = planRestore(metadataOf(v1), job);
    expect(plan.error).toBeInstanceOf(RestoreError);
    expect(plan.error!.message).toMatch(/maxParallelism 128.*64/);
  });

  test('a state type change is incompatible', () => {
    const plan = planRestore(metadataOf(v1), v2([listState('count', int32()), listState('ids', string())], [audit]));
    expect(plan.error).toBeInstanceOf(IncompatibleStateError);
    expect(plan.error!.message).toMatch(/value state and is now declared as a list state/);
  });

  test('a key serializer change re-keys, or fails every state without a converter', () => {
    const widened = defineJob({ name: 'orders', maxParallelism: 128, operators: [operator({ uid: 'k', key: int64(), states: [valueState('s', string())] })] });
    const old = defineJob({ name: 'orders', maxParallelism: 128, operators: [operator({ uid: 'k', key: int32(), states: [valueState('s', string())] })] });
    const plan = planRestore(metadataOf(old), widened);
    expect(plan.ok).toBe(true);
    expect(plan.operators[0].rekey).toBe(true);
    // Its states' values are as they were, but every entry is rewritten under its new key.
    expect(plan.operators[0].states[0].verdict).toBe('compatibleAfterMigration');
    const converted = defineJob({ name: 'orders', maxParallelism: 128, operators: [operator({ uid: 'k', key: string(), migrateKey: String, states: [valueState('s', string())] })] });
    expect(planRestore(metadataOf(old), converted).operators[0].key!.changes[0].message).toBe("keys converted by the operator's migrateKey function");
    const reversed = planRestore(metadataOf(widened), old);
    expect(reversed.error).toBeInstanceOf(IncompatibleStateError);
    expect((reversed.error as IncompatibleStateError).states[0].role).toBe('key');
  });

  test("the advice for a changed key, namespace or map key names that serializer's converter, not the state's migrate", () => {
    const job = (key: Serializer<any>, namespace: Serializer<any>, mapKey: Serializer<any>, value: Serializer<any>) =>
      defineJob({ name: 'orders', maxParallelism: 128, operators: [operator({ uid: 'k', key, namespace, states: [mapState('m', mapKey, value)] })] });
    const plan = planRestore(metadataOf(job(int64(), int64(), int64(), int64())), job(int32(), int32(), int32(), int32()));
    const error = plan.error as IncompatibleStateError;
    expect(error).toBeInstanceOf(IncompatibleStateError);
    const advice = Object.fromEntries(error.states.map((s) => [s.role, s.problems[0].message.replace(/^.*; /, '')]));
    expect(advice).toEqual({
      key: expect.stringMatching(/^give the operator a `migrateKey` converter/),
      namespace: expect.stringMatching(/^give the operator a `migrateNamespace` converter/),
      mapKey: expect.stringMatching(/^give the map state a `migrateKey` converter/),
      value: expect.stringMatching(/^give the state a `migrate` converter/),
    });
    expect(error.message).toMatch(/make the change compatible, or give the operator a `migrateKey` converter, or give the operator a `migrateNamespace` converter, or give the map state a `migrateKey` converter, or give the state a `migrate` converter\.$/);
  });

  test('a snapshot of an adapter that is not installed names the package', () => {
    const metadata = metadataOf(v1);
    metadata.operators[1].states[0].versions[0].snapshot = new OpaqueSnapshot('avro', 1, '@stateshift/avro', new Uint8Array([1]));
    const plan = planRestore(metadata, v1);
    expect(plan.error).toBeInstanceOf(MissingAdapterError);
    expect(plan.error!.message).toMatch(/npm install @stateshift\/avro/);
  });

  test('a stored snapshot read by another copy of its package refuses the restore with DuplicatePackageError, listed under its state', () => {
    const metadata = metadataOf(v1);
    const version = metadata.operators[1].states[0].versions[0];
    // What another copy's class looks like from here: the same name and kind, another constructor.
    const Stored = version.snapshot.constructor as new (...args: never[]) => object;
    const copies = { [Stored.name]: class extends Stored {} };
    version.snapshot = Object.assign(Object.create(copies[Stored.name].prototype), version.snapshot);
    const plan = planRestore(metadata, v1);
    expect(plan.ok).toBe(false);
    expect(plan.error).toBeInstanceOf(DuplicatePackageError);
    expect(plan.error!.message).toMatch(/comes from another copy of @stateshift\/core than the one that read the savepoint/);
    const last = plan.operators[1].states[0];
    expect(last.verdict).toBe('incompatible');
    expect(last.problems.map((p) => p.message)).toEqual([plan.error!.message]);
    // The other states are untouched by it.
    expect(plan.operators[0].states.map((s) => s.verdict)).toEqual(['compatibleAsIs', 'compatibleAsIs']);
  });
});
