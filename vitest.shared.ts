import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** One vitest configuration for every package: tests run against source, serially per file, against real services. */
export const sharedConfig = defineConfig({
  resolve: {
    alias: {
      "@provenance/shared/testing": fileURLToPath(new URL("./packages/shared/src/testing/index.ts", import.meta.url)),
      "@provenance/shared": fileURLToPath(new URL("./packages/shared/src/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
  },
});
