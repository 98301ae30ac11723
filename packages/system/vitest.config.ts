import { fileURLToPath } from "node:url";
import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

const src = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** The system's tests run the services from source, like every other package's tests. */
export default mergeConfig(sharedConfig, {
  resolve: {
    alias: {
      "@provenance/receipts/start": src("services/receipts/src/start.ts"),
      "@provenance/staleness/start": src("services/staleness/src/start.ts"),
      "@provenance/regeneration/start": src("services/regeneration/src/start.ts"),
      "@provenance/regeneration/simulator": src("services/regeneration/src/simulator/pipeline-simulator.ts"),
    },
  },
  test: { testTimeout: 180_000, hookTimeout: 180_000 },
});
