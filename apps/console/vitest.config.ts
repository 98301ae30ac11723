/** Tests: components in jsdom (src/**), the static server in Node (test/**). The browser tests are in apps/e2e. */
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";
import { GEN_DIR } from "./vite.config.js";

/** The console's Vitest configuration. */
export default defineConfig({
  plugins: [react()],
  resolve: { alias: { "@gen": GEN_DIR } },
  test: {
    include: ["src/**/*.test.{ts,tsx}", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
  },
});
