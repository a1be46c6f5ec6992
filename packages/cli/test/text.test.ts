import { expect, test } from 'vitest';
import { json } from '../src/io.js';
import { isValidPackageName, safe, safeLines } from '../src/text.js';

test.each([
  ['plain', 'plain'],
  ['a\u001b[31mred', 'a\\x1b[31mred'],
  ['bell\u0007', 'bell\\x07'],
  ['csi\u009b2J', 'csi\\x9b2J'],
  ['del\u007f', 'del\\x7f'],
  ['two\nlines\ttab\r', 'two\\nlines\\ttab\\r'],
  ['bidi\u202eevil', 'bidi\\u202eevil'],
  ['ünïcode ✓', 'ünïcode ✓'],
])('safe(%j)', (input, expected) => {
  expect(safe(input)).toBe(expected);
});

test('safeLines keeps line breaks and escapes the rest', () => {
  expect(safeLines('a\n\u001b]0;x\u0007b')).toBe('a\n\\x1b]0;x\\x07b');
});

test.each([
  ['@stateshift/avro', true],
  ['left-pad', true],
  ['@acme/x.y_z~1', true],
  ['evil-pkg; curl https://x | sh #', false],
  ['Upper', false],
  ['', false],
  ['../x', false],
  ['a'.repeat(215), false],
  ['@scope/', false],
  ['$(id)', false],
])('isValidPackageName(%j) is %s', (name, valid) => {
  expect(isValidPackageName(name)).toBe(valid);
});

test('JSON output escapes C1 controls and bidirectional overrides too', () => {
  const text = json({ name: 'a\u009b2J\u202e\u001b' });
  expect(text).not.toMatch(/[\u001b\u009b\u202e]/);
  expect(JSON.parse(text)).toEqual({ name: 'a\u009b2J\u202e\u001b' });
});

test('JSON output keeps numbers JSON has no literal for: NaN, ±Infinity and -0 are tagged, not null or 0', () => {
  const text = json({ values: [Number.NaN, Infinity, -Infinity, -0, 0, 1.5, null], map: new Map([['k', Number.NaN]]) });
  expect(JSON.parse(text)).toEqual({
    values: [{ $number: 'NaN' }, { $number: 'Infinity' }, { $number: '-Infinity' }, { $number: '-0' }, 0, 1.5, null],
    map: { $map: [['k', { $number: 'NaN' }]] },
  });
});
