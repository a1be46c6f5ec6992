import { defineConfig } from 'vitest/config';

// Packing and installing tarballs with npm takes minutes on a cold cache.
export default defineConfig({ test: { testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } });
