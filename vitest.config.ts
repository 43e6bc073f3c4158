import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/deno/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Most test files wait on real servers (registries, Docker Engines, sandboxes, git), not on
    // the CPU: on a 2-core machine vitest's default of one file at a time left the CPU mostly
    // idle. Three files at once; every test waits on events, not on the clock.
    maxWorkers: 3
  }
})
