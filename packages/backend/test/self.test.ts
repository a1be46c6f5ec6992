// The backend suite against a minimal reference backend (test/memory-backend.ts): the suite and
// AbstractStateBackend together, without heap or LSM. Then broken variants, to show the suite fails
// where it should.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { supports, type BackendOpenOptions, type BackendSupports, type StateBackend } from '@stateshift/core';
import { backendSuite, features } from '../src/testing/index.js';
import { commonOf, type BackendFactory } from '../src/testing/common.js';
import { MemoryBackend, openMemoryBackend } from './memory-backend.js';

const factory = async (options: BackendOpenOptions) => openMemoryBackend({ ...options, dir: options.dir ?? (await mkdtemp(join(tmpdir(), 'stateshift-memory-'))) });

backendSuite({ test, factory, supports: supports({ persistence: true }), name: 'memory' });
// The lazy-migration tests hold for a backend that migrates eagerly too: run them here so they are proven.
const lazyCommon = commonOf({ test, factory, supports: supports({ persistence: true, lazyMigration: true }), name: 'memory, lazy-migration tests' });
features.lazyMigration.all(lazyCommon.test, lazyCommon);

/** Runs one feature file's tests in turn, outside vitest, and returns the names of those that failed. */
async function failuresOf(feature: keyof typeof features, brokenFactory: BackendFactory, manifest: BackendSupports = supports({ persistence: true })): Promise<string[]> {
  const tests: [string, () => unknown][] = [];
  const common = commonOf({ test: (name, fn) => tests.push([name, fn]), factory: brokenFactory, supports: manifest });
  features[feature].all(common.test, common);
  const failed: string[] = [];
  for (const [name, fn] of tests) {
    try {
      await fn();
    } catch {
      failed.push(name);
    }
  }
  return failed;
}

/** The reference backend with one method replaced. */
function broken(patch: (backend: MemoryBackend) => void): BackendFactory {
  return async (options) => {
    const backend = await factory(options);
    patch(backend);
    return backend as StateBackend;
  };
}

test('the suite fails a backend whose TTL reads the real clock instead of the injected one', async () => {
  const failed = await failuresOf('ttl', broken((b) => (b.now = () => Date.now())));
  expect(failed).toContain('ttl: values expire by the injected clock on value, list and map state');
  expect(failed).toContain('ttl: a savepoint leaves out what the injected clock says has expired');
});

test('the suite fails a backend that hands out the value it stored (no copy)', async () => {
  const kept = new Map<unknown, unknown>();
  const failed = await failuresOf(
    'copySemantics',
    broken((b) => {
      const put = b._put.bind(b);
      b._put = (slot, key, namespace, stored, encoded) => {
        kept.set(`${slot.index}/${String(key)}`, stored);
        put(slot, key, namespace, stored, encoded);
      };
      b._get = (slot, key) => kept.get(`${slot.index}/${String(key)}`);
    }),
  );
  expect(failed).toContain('copy semantics: objects, arrays, Maps and bytes mutated after set do not change the state');
  expect(failed).toContain('copy semantics: objects, arrays, Maps and bytes mutated after get do not change the state');
});

test('the suite fails a backend whose checkpoints are not durable, and one that declares another manifest', async () => {
  const forgetful = broken((b) => {
    (b as unknown as { _checkpoint: () => Promise<void> })._checkpoint = async () => undefined;
  });
  expect(await failuresOf('checkpoints', forgetful)).toContain("checkpoints: reopening the directory gives the last checkpoint's state and position");
  expect(await failuresOf('supportsManifest', factory, supports({ persistence: true, lazyMigration: true }))).toContain(
    'supports: the manifest has every flag as a boolean, is JSON-cloneable, and is what the backend declares',
  );
});
