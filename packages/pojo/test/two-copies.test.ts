import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DuplicatePackageError, int32, resolveSchemaCompatibility, string } from '@stateshift/core';
import { afterAll, describe, expect, it } from 'vitest';
import * as here from '../src/index.js';

// A second copy of this package beside the first (so that it shares its @stateshift/core), as when
// a job module's project and the program that restores it each install @stateshift/pojo.
const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const elsewhere = mkdtempSync(path.join(packageRoot, '.two-copies-'));
cpSync(path.join(packageRoot, 'src'), path.join(elsewhere, 'src'), { recursive: true });
const other = (await import(pathToFileURL(path.join(elsewhere, 'src/index.ts')).href)) as typeof here;
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

describe('two copies of @stateshift/pojo', () => {
  it('a pojo from another copy is refused, naming where both copies are installed', () => {
    expect(other.pojo).not.toBe(here.pojo);
    const fields = () => ({ name: string(), age: int32() });
    const stored = here.pojo('Person', fields()).snapshot();
    let error: unknown;
    try {
      resolveSchemaCompatibility(other.pojo('Person', fields()).snapshot(), stored);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DuplicatePackageError);
    const refused = error as DuplicatePackageError;
    expect(refused.packageName).toBe('@stateshift/pojo');
    expect(refused.jobCopy).toBe(`${elsewhere}/`);
    expect(refused.savepointCopy).toBe(packageRoot);
    expect(refused.message).toContain(`another copy of @stateshift/pojo than the one that read the savepoint (the job's at ${elsewhere}/`);
    expect(resolveSchemaCompatibility(here.pojo('Person', fields()).snapshot(), stored).type).toBe('compatibleAsIs');
  });
});
