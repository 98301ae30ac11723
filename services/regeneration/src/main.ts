/** Entry point: read config, start (or only migrate with --migrate-only), drain on SIGTERM. */
import { createLogger, loadConfig, onShutdownSignal } from "@provenance/shared";
import { migrateRegeneration, startRegeneration } from "./start.js";

const config = loadConfig("regeneration");
const logger = createLogger("regeneration", config.logLevel);
if (process.argv.includes("--migrate-only")) {
  await migrateRegeneration(config, logger);
  logger.info("regeneration migrations applied");
} else {
  const running = await startRegeneration(config, logger);
  onShutdownSignal(() => running.stop(), logger);
}
