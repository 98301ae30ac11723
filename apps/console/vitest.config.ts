/** Tests: components in jsdom (src/**), the browser tests against the real system in Node (test/**). */
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";
import { GEN_DIR } from "./vite.config.js";

const shared = (path: string) => fileURLToPath(new URL(`../../packages/shared/src/${path}`, import.meta.url));

/** The console's Vitest configuration. */
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: {
      "@gen": GEN_DIR,
      "@provenance/shared/testing": shared("testing/index.ts"),
      "@provenance/shared": shared("index.ts"),
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
