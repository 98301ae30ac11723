/** Entry point: read config, start (or only migrate with --migrate-only), drain on SIGTERM. */
import { createLogger, loadConfig, onShutdownSignal } from "@provenance/shared";
import { migrateReceipts, startReceipts } from "./start.js";

const config = loadConfig("receipts");
const logger = createLogger("receipts", config.logLevel);
if (process.argv.includes("--migrate-only")) {
  await migrateReceipts(config, logger);
  logger.info("receipts migrations applied");
} else {
  const running = await startReceipts(config, logger);
  onShutdownSignal(() => running.stop(), logger);
}
