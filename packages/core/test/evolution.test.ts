import { expect, test } from 'vitest';
import { Verdict } from '../src/index.js';

test('a forked verdict knows the pairs visited so far and records apart from its parent', () => {
  const parent = new Verdict();
  expect(parent.firstVisit('Node<Node')).toBe(true);
  const fork = parent.fork();
  // A recursive pair already being walked is not walked again in the fork (a union branch tried inside it).
  expect(fork.firstVisit('Node<Node')).toBe(false);
  expect(fork.firstVisit('Leaf<Leaf')).toBe(true);
  fork.problem('Node.next', 'no branch');
  fork.change('Node.v', 'widened', true);
  expect(parent.problems).toEqual([]);
  expect(parent.changes).toEqual([]);
  expect(parent.firstVisit('Leaf<Leaf')).toBe(true);
});
