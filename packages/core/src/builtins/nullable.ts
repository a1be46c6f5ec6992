/**
 * `nullable(inner)`: a presence byte (0 for null, 1 then the inner value). A previous non-nullable
 * type becomes nullable by migration; nullable to non-nullable is incompatible (old nulls would
 * have nowhere to go).
 */
import type { DataInput, DataOutput } from '../bytes.js';
import {
  changesOf,
  compatibleAfterMigration,
  readerFor,
  type Deserializer,
  type Serializer,
} from '../contract.js';
import { DecodeError } from '../errors.js';
import { resolveSchemaCompatibility } from '../resolve.js';
import { CompositeSnapshot, registerComposite, writeNested, type CompositeSpec } from './composite.js';

function readNullable<T>(input: DataInput, inner: Deserializer<T>): T | null {
  const at = input.offset;
  const flag = input.readUint8();
  if (flag === 0) return null;
  if (flag !== 1) throw new DecodeError(`nullable presence byte must be 0 or 1, got ${flag}`, at);
  input.enter();
  const value = inner.deserialize(input);
  input.leave();
  return value;
}

export class NullableSerializer<T> implements Serializer<T | null> {
  readonly kind = 'core.nullable';
  constructor(readonly inner: Serializer<T>) {}

  serialize(value: T | null, out: DataOutput): void {
    if (value === null || value === undefined) {
      out.writeUint8(0);
      return;
    }
    out.writeUint8(1);
    writeNested('', () => this.inner.serialize(value, out));
  }

  deserialize(input: DataInput): T | null {
    return readNullable(input, this.inner);
  }

  snapshot(): CompositeSnapshot<T | null> {
    return new CompositeSnapshot(nullableSpec as CompositeSpec<T | null>, [this.inner.snapshot()]);
  }

  zero(): null {
    return null;
  }
}

const nullableSpec: CompositeSpec<unknown> = {
  kind: 'core.nullable',
  path: () => '',
  make: ([inner]) => new NullableSerializer(inner),
  reader: ([inner]) => ({ deserialize: (input) => readNullable(input, inner) }),
  describe: ([inner]) => ({ type: 'nullable', value: inner }),
  resolveOther(next, previous) {
    // A non-nullable previous type: its values are all present, read by the inner verdict.
    const inner = next.parts[0];
    const result = resolveSchemaCompatibility(inner, previous);
    if (result.type === 'incompatible') return result;
    const read = readerFor(result, inner.restoreSerializer());
    return compatibleAfterMigration(read, [{ path: '', message: 'made nullable' }, ...changesOf(result)]);
  },
};
registerComposite(nullableSpec);

export function nullable<T>(inner: Serializer<T>): Serializer<T | null> {
  return new NullableSerializer(inner);
}
