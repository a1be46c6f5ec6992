/** Helpers shared by the built-in serializers. */
import { incompatible, type Incompatible, type SerializerSnapshot } from '../contract.js';

export const CORE_PACKAGE = '@stateshift/core';

/** The verdict when a state's serializer changed to an unrelated kind. */
export function kindChanged(previous: SerializerSnapshot<unknown>, next: SerializerSnapshot<unknown>, path = ''): Incompatible {
  return incompatible([
    {
      path,
      message:
        `type changed from ${describeKind(previous)} to ${describeKind(next)}, which cannot read the old bytes; ` +
        'give the state a `migrate` converter (identity `(v) => v` if they keep their shape)',
    },
  ]);
}

export function describeKind(snapshot: SerializerSnapshot<unknown>): string {
  const d = snapshot.describe();
  const name = typeof d.name === 'string' ? ` ${d.name}` : '';
  return `${snapshot.kind}${name}`;
}
