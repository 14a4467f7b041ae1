import { defineConfig } from "vitest/config";

// End-to-end tests: real headless Chromium (Debian's) against a real haruchat
// backend on loopback, started by e2e/backend.ts on the embedded model.
export default defineConfig({
  test: {
    environment: "node",
    include: ["e2e/**/*.e2e.ts"],
    globalSetup: ["e2e/backend.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
