import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/construct/apps/ holds apps of other toolchains (a jest test among them), run by cdk8s-apps.test.ts.
    exclude: [...configDefaults.exclude, 'test/construct/apps/**'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Test files start servers on their own ports; running them one file at a time keeps the
    // 2-core machines from timing out under qemu and Docker load.
    fileParallelism: false,
  },
});
