import { defineConfig } from "vitest/config";

/** Vite's default conditions for code run in Node (its `defaultServerConditions`), after our own. */
const SERVER_CONDITIONS = ["source", "module", "node", "development|production"];

/**
 * One vitest configuration for every package: tests run against source, serially per file, against real services.
 * Workspace packages export their TypeScript source under the `source` condition (next to `types` and `default`,
 * which point at dist/), so a test imports another workspace by its package name — a declared dependency — and runs
 * its source, with no aliases and no relative paths across workspaces.
 */
export const sharedConfig = defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: SERVER_CONDITIONS } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
  },
});
