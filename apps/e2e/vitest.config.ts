import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

/** The browser tests build the console and start the whole system before the first test. */
export default mergeConfig(sharedConfig, { test: { testTimeout: 120_000, hookTimeout: 180_000 } });
