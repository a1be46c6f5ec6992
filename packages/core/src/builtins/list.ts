/** `list(element)`: a JS array, written as a varint count and the elements. */
import type { DataInput, DataOutput } from '../bytes.js';
import type { Deserializer, Serializer } from '../contract.js';
import { EncodeError } from '../errors.js';
import { CompositeSnapshot, registerComposite, writeNested, type CompositeSpec } from './composite.js';

function readList<E>(input: DataInput, element: Deserializer<E>): E[] {
  const n = input.readLength('a list');
  input.enter();
  const out = new Array<E>(n);
  for (let i = 0; i < n; i++) out[i] = element.deserialize(input);
  input.leave();
  return out;
}

export class ListSerializer<E> implements Serializer<E[]> {
  readonly kind = 'core.list';
  constructor(readonly element: Serializer<E>) {}

  serialize(value: E[], out: DataOutput): void {
    if (!Array.isArray(value)) throw new EncodeError('expected an array');
    out.writeVarUint(value.length);
    for (let i = 0; i < value.length; i++) writeNested(`[${i}]`, () => this.element.serialize(value[i], out));
  }

  deserialize(input: DataInput): E[] {
    return readList(input, this.element);
  }

  snapshot(): CompositeSnapshot<E[]> {
    return new CompositeSnapshot(listSpec as CompositeSpec<E[]>, [this.element.snapshot()]);
  }

  zero(): E[] {
    return [];
  }
}

const listSpec: CompositeSpec<unknown[]> = {
  kind: 'core.list',
  path: () => '[]',
  make: ([element]) => new ListSerializer(element),
  reader: ([element]) => ({ deserialize: (input) => readList(input, element) }),
  describe: ([element]) => ({ type: 'list', element }),
};
registerComposite(listSpec);

export function list<E>(element: Serializer<E>): Serializer<E[]> {
  return new ListSerializer(element);
}
