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
  ])('%s from another copy is refused with an error that says so and what to do', (_, ours, theirs) => {
    const stored = ours().snapshot();
    let error: unknown;
    try {
      here.resolveSchemaCompatibility(theirs().snapshot(), stored);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(here.DuplicatePackageError);
    const refused = error as here.DuplicatePackageError;
    expect(refused.code).toBe('STATESHIFT_DUPLICATE_PACKAGE');
    expect(refused.message).toMatch(/comes from another copy of @stateshift\/core than the one that read the savepoint/);
    expect(refused.message).toMatch(/npm dedupe/);
    // Both copies named by where they are installed.
    expect(refused.jobCopy).toBe(`${elsewhere}/`);
    expect(refused.savepointCopy).toBe(decodeURIComponent(new URL('..', import.meta.url).pathname));
    expect(refused.message).toContain(`the job's at ${elsewhere}/, the one that read the savepoint at ${refused.savepointCopy}`);
    // The same serializer from one copy is compatible as is.
    expect(here.resolveSchemaCompatibility(ours().snapshot(), stored).type).toBe('compatibleAsIs');
  });
});
