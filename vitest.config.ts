import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    // Two cores on CI: keep the worker count small so property tests do not starve each other.
    maxWorkers: 2,
  },
});
