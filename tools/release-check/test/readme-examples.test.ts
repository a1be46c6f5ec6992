import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractExamples, publishablePackages, run } from '../src/index.js';

// Each package's README example runs as a module inside the package directory, so it resolves the
// package (and its dev dependencies) the way a user's project resolves installed ones.
describe.each(publishablePackages().map((p) => [p.manifest.name, p.dir] as const))('%s README', (_name, dir) => {
  const examples = extractExamples(path.join(dir, 'README.md'));

  it('has a runnable example', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  for (const example of examples) {
    it(`example at line ${example.line} runs`, () => {
      const file = path.join(dir, `.readme-example-${example.line}.mjs`);
      writeFileSync(file, example.code);
      try {
        const result = run(process.execPath, [file], { cwd: dir, allowFailure: true, timeout: 60_000 });
        expect(result.stderr + result.stdout).not.toBe('');
        expect(result.status, `README.md:${example.line}\n${result.stderr}`).toBe(0);
      } finally {
        rmSync(file, { force: true });
      }
    });
  }
});
