import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../vitest.shared.js";

/** The shared configuration, with room for the short chaos run (about two and a half minutes) in one test. */
export default mergeConfig(sharedConfig, defineConfig({ test: { testTimeout: 240_000, hookTimeout: 60_000 } }));
