/**
 * The backend suite: every stateshift backend runs it, in every mode it has. Pass your runner's
 * `test`, a `factory` returning a fresh backend, and the backend's `supports` manifest; optional
 * tests run only where the manifest says so.
 *
 * ```ts
 * import { test } from 'vitest';
 * import { backendSuite } from '@stateshift/backend/testing';
 * backendSuite({ test, factory: (options) => openLsmBackend(options), supports: LSM_SUPPORTS, name: 'lsm' });
 * ```
 *
 * One file per feature, each exporting `all(test, common)`.
 *
 * @module @stateshift/backend/testing
 */
import * as badInput from './bad-input.js';
import * as checkpoints from './checkpoints.js';
import { commonOf, type BackendSuiteOptions } from './common.js';
import * as concurrency from './concurrency.js';
import * as consistentCut from './consistent-cut.js';
import * as copySemantics from './copy-semantics.js';
import * as handles from './handles.js';
import * as lazyMigration from './lazy-migration.js';
import * as mixedFormats from './mixed-formats.js';
import * as namespaces from './namespaces.js';
import * as rekeying from './rekeying.js';
import * as rescaling from './rescaling.js';
import * as savepoints from './savepoints.js';
import * as supportsManifest from './supports-manifest.js';
import * as ttl from './ttl.js';
import * as upgradeStory from './upgrade-story.js';

/** Every feature file, by name (to run one on its own: `features.ttl.all(test, common)`). */
export const features = {
  supportsManifest,
  handles,
  namespaces,
  badInput,
  copySemantics,
  concurrency,
  ttl,
  savepoints,
  consistentCut,
  checkpoints,
  rescaling,
  rekeying,
  mixedFormats,
  upgradeStory,
  lazyMigration,
} as const;

/** Runs every feature of the suite against `factory`. */
export function backendSuite(options: BackendSuiteOptions): void {
  const common = commonOf(options);
  for (const feature of Object.values(features)) feature.all(common.test, common);
}

export { commonOf, session, collect, type BackendFactory, type BackendSuiteOptions, type Common, type Session, type TestFn } from './common.js';
export { upgradeStoryCases, runOrdersV1, type UpgradeStoryCase, type StoryExpectation } from './story.js';
export * from './jobs.js';
export { corruptionJob, fillCorruptionJob, readEveryEntry, runBackendCorruptionSuite, type BackendCorruptionOptions } from './corruption.js';
