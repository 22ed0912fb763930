import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Test files start servers on their own ports; running them one file at a time keeps the
    // 2-core machines from timing out under qemu and Docker load.
    fileParallelism: false,
  },
});
