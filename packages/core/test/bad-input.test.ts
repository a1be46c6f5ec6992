import { expect, test } from 'vitest';
import {
  DataInput,
  DataOutput,
  DecodeError,
  defineJob,
  int32,
  isOpaqueSnapshot,
  JobDefinitionError,
  MissingAdapterError,
  operator,
  readSnapshot,
  resolveSchemaCompatibility,
  snapshotFromBytes,
  snapshotToBytes,
  SnapshotVersionError,
  string,
  valueState,
  writeSnapshot,
  type SerializerSnapshot,
  type StateDescriptor,
} from '../src/index.js';

const catchError = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
};

test('DataInput: reading past the end names the offset', () => {
  const e = catchError(() => new DataInput(new Uint8Array([1, 2])).readInt32());
  expect(e).toBeInstanceOf(DecodeError);
  expect((e as DecodeError).offset).toBe(0);
  expect(e.message).toMatch(/offset 0/);
  const input = new DataInput(new Uint8Array([3, 0x61]));
  expect(() => input.readString()).toThrow(DecodeError);
});

test('DataInput: a varint longer than 10 bytes is refused', () => {
  const bytes = new Uint8Array(11).fill(0x80);
  expect(() => new DataInput(bytes).readVarUint64()).toThrow(DecodeError);
  expect(() => new DataInput(bytes).readVarInt64()).toThrow(/varint/i);
});

test('DataInput: invalid UTF-8 is refused with its offset', () => {
  const out = new DataOutput();
  out.writeUint8(9);
  out.writeBytes(new Uint8Array([0x61, 0xc3, 0x28]));
  const input = new DataInput(out.toBytes());
  input.readUint8();
  const e = catchError(() => input.readString());
  expect(e).toBeInstanceOf(DecodeError);
  expect(e.message).toMatch(/UTF-8/);
  expect((e as DecodeError).offset).toBeGreaterThanOrEqual(1);
});

test('DataInput: a length beyond the remaining bytes is refused before allocating', () => {
  const out = new DataOutput();
  out.writeVarUint(1_000_000);
  expect(() => new DataInput(out.toBytes()).readBytes()).toThrow(DecodeError);
});

/** A snapshot of a kind no package registered, as a savepoint written with another adapter holds. */
function foreignSnapshotBytes(kind: string, version = 1): Uint8Array {
  const foreign: SerializerSnapshot<unknown> = {
    kind,
    version,
    packageName: '@stateshift/protobuf',
    write: (out) => out.writeString('message Order {}'),
    restoreSerializer: () => int32(),
    resolveCompatibility: () => ({ type: 'compatibleAsIs' }),
    describe: () => ({ type: kind }),
  };
  return snapshotToBytes(foreign);
}

test('readSnapshot: an unknown kind reads as opaque, describes itself and copies byte for byte', () => {
  const bytes = foreignSnapshotBytes('protobuf');
  const snapshot = snapshotFromBytes(bytes);
  expect(isOpaqueSnapshot(snapshot)).toBe(true);
  expect(snapshot.describe()).toMatchObject({ type: 'opaque', kind: 'protobuf', package: '@stateshift/protobuf' });
  expect(snapshotToBytes(snapshot)).toEqual(bytes);
});

test('readSnapshot: an opaque snapshot fails naming the package to install when it is needed', () => {
  const snapshot = snapshotFromBytes(foreignSnapshotBytes('protobuf'));
  const e = catchError(() => resolveSchemaCompatibility(string().snapshot(), snapshot));
  expect(e).toBeInstanceOf(MissingAdapterError);
  expect(e.message).toContain('@stateshift/protobuf');
  expect(() => snapshot.restoreSerializer()).toThrow(/npm install @stateshift\/protobuf|@stateshift\/protobuf/);
});

test('readSnapshot: a layout version newer than this release knows fails clearly', () => {
  const out = new DataOutput();
  writeSnapshot(out, { ...string().snapshot(), kind: 'core.string', version: 7, packageName: '@stateshift/core', write: () => {} } as SerializerSnapshot<unknown>);
  const e = catchError(() => readSnapshot(new DataInput(out.toBytes())));
  expect(e).toBeInstanceOf(SnapshotVersionError);
  expect(e.message).toMatch(/core\.string/);
  expect(e.message).toMatch(/7/);
});

test('readSnapshot: truncated framing is a DecodeError at every cut', () => {
  const bytes = snapshotToBytes(string().snapshot());
  for (let cut = 0; cut < bytes.length; cut++) expect(() => snapshotFromBytes(bytes.subarray(0, cut))).toThrow(DecodeError);
});

const op = (uid: string, states: StateDescriptor[] = [valueState('count', int32())]) => operator({ uid, key: string(), states });

test('defineJob: duplicate operator uids name the uid', () => {
  const e = catchError(() => defineJob({ name: 'orders', maxParallelism: 128, operators: [op('counter'), op('counter')] }));
  expect(e).toBeInstanceOf(JobDefinitionError);
  expect(e.message).toContain('"counter"');
});

test('defineJob: duplicate state names name the state and operator', () => {
  const e = catchError(() => op('counter', [valueState('count', int32()), valueState('count', string())]));
  expect(e).toBeInstanceOf(JobDefinitionError);
  expect(e.message).toContain('"count"');
  expect(e.message).toContain('"counter"');
});

test.each([0, 32769, 1.5, -1, Number.NaN])('defineJob: maxParallelism %s is refused, naming the job', (maxParallelism) => {
  const e = catchError(() => defineJob({ name: 'orders', maxParallelism, operators: [op('counter')] }));
  expect(e).toBeInstanceOf(JobDefinitionError);
  expect(e.message).toContain('"orders"');
  expect(e.message).toContain('1..32768');
});

test('defineJob: 1 and 32768 are the bounds', () => {
  expect(defineJob({ name: 'a', maxParallelism: 1, operators: [] }).maxParallelism).toBe(1);
  expect(defineJob({ name: 'a', maxParallelism: 32768, operators: [] }).maxParallelism).toBe(32768);
});
