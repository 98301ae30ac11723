/** Entry point: read config, start (or only migrate with --migrate-only), drain on SIGTERM. */
import { createLogger, loadConfig, onShutdownSignal } from "@provenance/shared";
import { migrateStaleness, startStaleness } from "./start.js";

const config = loadConfig("staleness");
const logger = createLogger("staleness", config.logLevel);
if (process.argv.includes("--migrate-only")) {
  await migrateStaleness(config, logger);
  logger.info("staleness migrations applied");
} else {
  const running = await startStaleness(config, logger);
  onShutdownSignal(() => running.stop(), logger);
}
