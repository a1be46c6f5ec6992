import { defineConfig } from 'vitest/config';

// Property tests run longer on a loaded 2-core CI machine than the default 5 s allows.
export default defineConfig({ test: { testTimeout: 60_000 } });
