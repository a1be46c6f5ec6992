import { describe, expect, it } from 'vitest';
import { adviceForRole, IncompatibleStateError } from '../src/index.js';

describe('IncompatibleStateError', () => {
  it('counts a state once when several of its serializers are incompatible, and lists every problem', () => {
    const error = new IncompatibleStateError([
      { operator: 'orders', state: 'count', role: 'key', problems: [{ path: '', message: 'type changed from string to int64' }] },
      { operator: 'orders', state: 'count', role: 'value', problems: [{ path: 'total', message: 'type changed from int64 to string' }] },
      { operator: 'orders', state: 'last', role: 'key', problems: [{ path: '', message: 'type changed from string to int64' }] },
    ]);
    expect(error.code).toBe('STATESHIFT_INCOMPATIBLE');
    expect(error.message).toMatch(/^2 states are incompatible with the savepoint:\n/);
    expect(error.message).toContain('operator "orders", state "count" (key): type changed from string to int64');
    expect(error.message).toContain('operator "orders", state "count" (value): total: type changed from int64 to string');
    expect(error.message).toContain('operator "orders", state "last" (key)');
    expect(new IncompatibleStateError(error.states.slice(0, 2)).message).toMatch(/^1 state is incompatible/);
  });

  it('ends with the converters that help with these problems: the operator\'s migrateKey for a key, nothing for a type', () => {
    const key = new IncompatibleStateError([{ operator: 'orders', state: 'count', role: 'key', problems: [{ path: '', message: 'x' }] }]);
    expect(key.message).toMatch(/\nKeep the old schema, make the change compatible, or give the operator a `migrateKey` converter\.$/);
    expect(key.message).not.toContain('`migrate` converter');
    const both = new IncompatibleStateError([...key.states, { operator: 'orders', state: 'count', role: 'value v2', problems: [{ path: '', message: 'x' }] }]);
    expect(both.message).toMatch(/or give the operator a `migrateKey` converter, or give the state a `migrate` converter\.$/);
    const type = new IncompatibleStateError([{ operator: 'orders', state: 'count', role: 'type', problems: [{ path: '', message: 'x' }] }]);
    expect(type.message).toMatch(/\nKeep the old declaration of the state\.$/);
  });
});

describe('adviceForRole', () => {
  it("rewords a serializer's advice, written for values, for the serializer it was found in", () => {
    const message = 'type changed; give the state a `migrate` converter (identity `(v) => v` if they keep their shape)';
    expect(adviceForRole(message, 'value')).toBe(message);
    expect(adviceForRole(message, 'key')).toBe('type changed; give the operator a `migrateKey` converter (identity `(v) => v` if they keep their shape)');
    expect(adviceForRole(message, 'namespace')).toContain('give the operator a `migrateNamespace` converter');
    expect(adviceForRole(message, 'mapKey')).toContain('give the map state a `migrateKey` converter');
    expect(adviceForRole('keep both fields and combine them with a `migrate` converter', 'key')).toBe('keep both fields and combine them with a `migrateKey` converter');
    expect(adviceForRole(message, 'type')).toBe(message);
  });
});
