/** The `supports` manifest: every flag present as a boolean, JSON-cloneable, as declared, unchanged by open and close. */
import { deepStrictEqual, equal, ok } from 'node:assert/strict';
import { supports as manifestOf, type BackendSupports } from '@stateshift/core';
import { session, type Common } from './common.js';
import { countsJob } from './fixtures.js';

/** Every flag the contract knows (read from core's own defaults, so a new flag is checked too). */
const FLAGS = Object.keys(manifestOf()).filter((k) => k !== 'additionalMethods') as (keyof Omit<BackendSupports, 'additionalMethods'>)[];

function checkShape(manifest: BackendSupports, where: string): void {
  ok(manifest && typeof manifest === 'object', `${where}: supports is an object`);
  for (const flag of FLAGS) equal(typeof manifest[flag], 'boolean', `${where}: supports.${flag} is a boolean (missing flags are false)`);
  ok(manifest.additionalMethods && typeof manifest.additionalMethods === 'object', `${where}: supports.additionalMethods is an object`);
  for (const [name, value] of Object.entries(manifest.additionalMethods)) equal(typeof value, 'boolean', `${where}: supports.additionalMethods.${name} is a boolean`);
  deepStrictEqual(JSON.parse(JSON.stringify(manifest)), { ...manifest, additionalMethods: { ...manifest.additionalMethods } }, `${where}: supports is JSON-cloneable`);
}

export function all(test: Common['test'], common: Common): void {
  const { prefix, supports } = common;

  test(`${prefix}supports: the manifest has every flag as a boolean, is JSON-cloneable, and is what the backend declares`, session(common, async (s) => {
    checkShape(supports, 'the declared manifest');
    const { job } = countsJob();
    const backend = await s.open({ job });
    checkShape(backend.supports, 'backend.supports');
    deepStrictEqual(JSON.parse(JSON.stringify(backend.supports)), JSON.parse(JSON.stringify(supports)), 'backend.supports equals the manifest given to the suite');
    for (const [name, present] of Object.entries(backend.supports.additionalMethods)) {
      if (present) equal(typeof (backend as unknown as Record<string, unknown>)[name], 'function', `additional method ${name} exists`);
    }
  }));

  test(`${prefix}supports: the manifest is unchanged by open and close`, session(common, async (s) => {
    const { job } = countsJob();
    const before = JSON.stringify(supports);
    const backend = await s.open({ job });
    const opened = JSON.stringify(backend.supports);
    await backend.close();
    equal(JSON.stringify(backend.supports), opened, 'backend.supports after close');
    equal(JSON.stringify(supports), before, 'the declared manifest');
    const again = await s.open({ job });
    equal(JSON.stringify(again.supports), opened, 'a second backend declares the same');
  }));
}
