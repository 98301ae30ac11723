/** Entry point: read config, start, drain on SIGTERM. */
import { createLogger, loadConfig, onShutdownSignal } from "@provenance/shared";
import { startReceipts } from "./start.js";

const config = loadConfig("receipts");
const logger = createLogger("receipts", config.logLevel);
const running = await startReceipts(config, logger);
onShutdownSignal(() => running.stop(), logger);
