import { describe, expect, it } from 'vitest';
import { IncompatibleStateError } from '../src/index.js';

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
});
