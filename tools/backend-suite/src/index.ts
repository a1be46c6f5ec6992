/** The tests every stateshift backend runs: generic behaviour and the orders upgrade story. */
export { type BackendUnderTest, workspace } from './harness.js';
export { backendSuite } from './backend-suite.js';
export { upgradeStorySuite } from './upgrade-story-suite.js';
export { upgradeStoryCases, runOrdersV1, type UpgradeStoryCase, type StoryExpectation } from './story.js';
export * from './jobs.js';
