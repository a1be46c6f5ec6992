/** `tuple(...items)`: a JS array of fixed length, each item with its own serializer, no count written. */
import type { DataInput, DataOutput } from '../bytes.js';
import type { Deserializer, Serializer } from '../contract.js';
import { EncodeError, SchemaError } from '../errors.js';
import { CompositeSnapshot, registerComposite, writeNested, type CompositeSpec } from './composite.js';

function readTuple(input: DataInput, items: Deserializer<unknown>[]): unknown[] {
  input.enter();
  const out = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) out[i] = items[i].deserialize(input);
  input.leave();
  return out;
}

export class TupleSerializer<T extends unknown[]> implements Serializer<T> {
  readonly kind = 'core.tuple';
  constructor(readonly items: Serializer<unknown>[]) {}

  serialize(value: T, out: DataOutput): void {
    if (!Array.isArray(value) || value.length !== this.items.length) throw new EncodeError(`expected an array of ${this.items.length} items`);
    for (let i = 0; i < this.items.length; i++) writeNested(`[${i}]`, () => this.items[i].serialize(value[i], out));
  }

  deserialize(input: DataInput): T {
    return readTuple(input, this.items) as T;
  }

  snapshot(): CompositeSnapshot<T> {
    return new CompositeSnapshot(
      tupleSpec as CompositeSpec<T>,
      this.items.map((s) => s.snapshot()),
    );
  }

  zero(): T {
    return this.items.map((s, i) => {
      if (!s.zero) throw new SchemaError(`tuple item [${i}] (${s.kind}) has no zero value; declare a default`);
      return s.zero();
    }) as T;
  }
}

const tupleSpec: CompositeSpec<unknown[]> = {
  kind: 'core.tuple',
  path: (i) => `[${i}]`,
  make: (items) => new TupleSerializer(items),
  reader: (items) => ({ deserialize: (input) => readTuple(input, items) }),
  describe: (items) => ({ type: 'tuple', items }),
};
registerComposite(tupleSpec);

type SerializedTypes<S extends Serializer<unknown>[]> = { [I in keyof S]: S[I] extends Serializer<infer T> ? T : never };

export function tuple<S extends Serializer<any>[]>(...items: S): Serializer<SerializedTypes<S>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new TupleSerializer(items);
}
