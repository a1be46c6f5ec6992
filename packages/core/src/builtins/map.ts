/** `map(key, value)`: a JS Map, written as a varint count and key, value pairs in insertion order. */
import type { DataInput, DataOutput } from '../bytes.js';
import type { Deserializer, Serializer } from '../contract.js';
import { EncodeError } from '../errors.js';
import { CompositeSnapshot, registerComposite, writeNested, type CompositeSpec } from './composite.js';

function readMap<K, V>(input: DataInput, key: Deserializer<K>, value: Deserializer<V>): Map<K, V> {
  const n = input.readLength('a map');
  input.enter();
  const out = new Map<K, V>();
  for (let i = 0; i < n; i++) {
    const k = key.deserialize(input);
    out.set(k, value.deserialize(input));
  }
  input.leave();
  return out;
}

export class MapSerializer<K, V> implements Serializer<Map<K, V>> {
  readonly kind = 'core.map';
  constructor(
    readonly key: Serializer<K>,
    readonly value: Serializer<V>,
  ) {}

  serialize(map: Map<K, V>, out: DataOutput): void {
    if (!(map instanceof Map)) throw new EncodeError('expected a Map');
    out.writeVarUint(map.size);
    for (const [k, v] of map) {
      writeNested('{key}', () => this.key.serialize(k, out));
      writeNested('{value}', () => this.value.serialize(v, out));
    }
  }

  deserialize(input: DataInput): Map<K, V> {
    return readMap(input, this.key, this.value);
  }

  snapshot(): CompositeSnapshot<Map<K, V>> {
    return new CompositeSnapshot(mapSpec as CompositeSpec<Map<K, V>>, [this.key.snapshot(), this.value.snapshot()]);
  }

  zero(): Map<K, V> {
    return new Map();
  }
}

const mapSpec: CompositeSpec<Map<unknown, unknown>> = {
  kind: 'core.map',
  path: (i) => (i === 0 ? '{key}' : '{value}'),
  make: ([key, value]) => new MapSerializer(key, value),
  reader: ([key, value]) => ({ deserialize: (input) => readMap(input, key, value) }),
  describe: ([key, value]) => ({ type: 'map', key, value }),
};
registerComposite(mapSpec);

export function map<K, V>(key: Serializer<K>, value: Serializer<V>): Serializer<Map<K, V>> {
  return new MapSerializer(key, value);
}
