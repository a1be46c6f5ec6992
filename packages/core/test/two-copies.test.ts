import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as here from '../src/index.js';

// A second copy of core, as a job module installed in another project loads it: the same code in
// another directory, so other classes and another registry.
const elsewhere = mkdtempSync(path.join(tmpdir(), 'stateshift-core-copy-'));
cpSync(new URL('../src', import.meta.url), path.join(elsewhere, 'src'), { recursive: true });
const other = (await import(pathToFileURL(path.join(elsewhere, 'src/index.ts')).href)) as typeof here;
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

describe('two copies of @stateshift/core', () => {
  it('the test really loads a second copy', () => {
    expect(other.list).not.toBe(here.list);
  });

  it.each<[string, () => here.Serializer<unknown>, () => here.Serializer<unknown>]>([
    ['a composite', () => here.list(here.string()), () => other.list(other.string())],
    ['a primitive', () => here.int64(), () => other.int64()],
  ])('%s from another copy is refused with a message that says so and what to do', (_, ours, theirs) => {
    const stored = ours().snapshot();
    const result = here.resolveSchemaCompatibility(theirs().snapshot(), stored);
    expect(result.type).toBe('incompatible');
    const message = result.type === 'incompatible' ? result.problems.map((p) => p.message).join('\n') : '';
    expect(message).toMatch(/comes from another copy of @stateshift\/core than the one that read the savepoint/);
    expect(message).toMatch(/npm dedupe/);
    // Both copies named by where they are installed.
    expect(message).toContain(`the job's at ${elsewhere}/`);
    expect(message).toContain(`the one that read the savepoint at ${decodeURIComponent(new URL('..', import.meta.url).pathname)}`);
    // The same serializer from one copy is compatible as is.
    expect(here.resolveSchemaCompatibility(ours().snapshot(), stored).type).toBe('compatibleAsIs');
  });
});
