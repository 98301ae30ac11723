/** Tests: components in jsdom (src/**), the browser tests against the real system in Node (test/**). */
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";
import { GEN_DIR } from "./vite.config.js";

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** The console's Vitest configuration. */
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: {
      "@gen": GEN_DIR,
      // The browser tests run the real system from source, as every other package's tests do.
      "@provenance/shared/testing": repo("packages/shared/src/testing/index.ts"),
      "@provenance/shared": repo("packages/shared/src/index.ts"),
      "@provenance/system": repo("packages/system/src/start-system.ts"),
      "@provenance/receipts/start": repo("services/receipts/src/start.ts"),
      "@provenance/staleness/start": repo("services/staleness/src/start.ts"),
      "@provenance/regeneration/start": repo("services/regeneration/src/start.ts"),
      "@provenance/regeneration/simulator": repo("services/regeneration/src/simulator/pipeline-simulator.ts"),
    },
  },
  test: {
    include: ["src/**/*.test.{ts,tsx}", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
  },
});
