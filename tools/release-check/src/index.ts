export { ROOT, publishablePackages, readManifest, type Manifest, type WorkspacePackage } from './workspace.js';
export { extractExamples, type Example } from './readme-examples.js';
export { run, type RunResult } from './run.js';
export { packAll, createConsumer, type Consumer } from './consumer.js';
