/**
 * avsc's resolver, with the two places where it could change a value replaced by the rules of
 * resolution.ts:
 * - a value read into a union takes the branch `chooseBranch` picks (the exact type first, as the
 *   Java reference resolver does, then the promotion that keeps the value), where avsc takes the
 *   first branch that resolves at all (a long read into ["double", "long"] would become a double);
 * - bytes read as a string must be valid UTF-8: an invalid value fails to read instead of having
 *   its bad sequences replaced.
 * The replacement lasts only while the resolver is built (avsc builds it synchronously).
 */
import avsc from 'avsc';
import { chooseBranch } from './resolution.js';
import type { AvroType } from './types.js';

interface Resolver {
  _read?: (tap: { buf: Buffer; pos: number }) => unknown;
}
type Update = (this: AvroType, resolver: Resolver, writer: AvroType, opts: unknown) => void;
interface Prototype {
  _update: Update;
}

const unions = [avsc.types.UnwrappedUnionType, avsc.types.WrappedUnionType].map((t) => t.prototype as unknown as Prototype);
const stringPrototype = avsc.types.StringType.prototype as unknown as Prototype;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A union's update that offers avsc only the chosen branch (avsc then resolves and wraps it as usual). */
function unionUpdate(original: Update): Update {
  return function (this: AvroType, resolver, writer, opts) {
    const types = (this as unknown as { types: AvroType[] }).types;
    const chosen = chooseBranch(types, writer);
    if (chosen === undefined) return; // no branch: avsc reports "cannot read"
    original.call(Object.create(this, { types: { value: [types[chosen]] } }) as AvroType, resolver, writer, opts);
  };
}

function stringUpdate(original: Update): Update {
  return function (this: AvroType, resolver, writer, opts) {
    original.call(this, resolver, writer, opts);
    if ((writer as { typeName: string }).typeName !== 'bytes') return;
    const readBytes = (writer as unknown as { _read: (tap: unknown) => Buffer })._read.bind(writer);
    resolver._read = (tap) => {
      try {
        return strictUtf8.decode(readBytes(tap));
      } catch {
        throw new Error('bytes written before are not valid UTF-8, so they cannot be read as a string; give the state a `migrate` converter that decides what to keep');
      }
    };
  };
}

/** avsc's resolver for data written with `writer`, read as `reader`, with the rules above. */
export function createResolver(reader: AvroType, writer: AvroType): unknown {
  const patched: [Prototype, Update][] = [...unions.map((p): [Prototype, Update] => [p, p._update]), [stringPrototype, stringPrototype._update]];
  for (const [prototype, original] of patched) prototype._update = prototype === stringPrototype ? stringUpdate(original) : unionUpdate(original);
  try {
    return reader.createResolver(writer);
  } finally {
    for (const [prototype, original] of patched) prototype._update = original;
  }
}
