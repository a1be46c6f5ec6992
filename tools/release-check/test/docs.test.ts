import path from 'node:path';
import { expect, test } from 'vitest';
import { ROOT, run } from '../src/index.js';

test('the API reference builds from the doc comments without errors (pnpm run docs)', () => {
  const result = run(path.join(ROOT, 'node_modules/.bin/typedoc'), ['--emit', 'none'], { cwd: ROOT, allowFailure: true, timeout: 240_000 });
  expect(result.status, result.stdout + result.stderr).toBe(0);
  expect(result.stdout + result.stderr).toMatch(/Found 0 errors/);
});
