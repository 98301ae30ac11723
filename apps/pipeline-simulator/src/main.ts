#!/usr/bin/env node
/**
 * Entry point of the pipeline simulator (demos only): consumes generation.jobs.requested and records receipts
 * through ReceiptService. Its environment is read by config.ts.
 */
import { JOB_REQUESTED, connectEvents, createLogger, onShutdownSignal } from "@provenance/shared";
import { readServiceTokenFile, redactUrl } from "@provenance/shared/auth";
import { loadSimulatorConfig } from "./config.js";
import { startPipelineSimulator } from "./pipeline-simulator.js";

const config = loadSimulatorConfig();
const logger = createLogger("pipeline-simulator", config.logLevel);
const serviceToken = await readServiceTokenFile(config.serviceTokenFile, {
  onReloadError: (err) => logger.error({ err }, "SERVICE_TOKEN_FILE changed but cannot be used; keeping the previous token"),
});
const nc = await connectEvents(config.natsUrl, "pipeline-simulator", logger);
const simulator = await startPipelineSimulator({
  nc,
  namespace: config.eventNamespace,
  receiptsUrl: config.receiptsUrl,
  serviceToken,
  logger,
  failFraction: config.failFraction,
  failSegmentIds: config.failSegmentIds,
  tamperFraction: config.tamperFraction,
  tamperSegmentIds: config.tamperSegmentIds,
  generationMs: config.generationMs,
  nondeterministic: config.nondeterministic,
});
logger.info({ receiptsUrl: config.receiptsUrl, natsUrl: redactUrl(config.natsUrl) }, `pipeline simulator consuming ${JOB_REQUESTED}`);
onShutdownSignal(async () => {
  await simulator.stop();
  await nc.drain();
}, logger);
