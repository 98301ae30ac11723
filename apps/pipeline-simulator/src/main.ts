#!/usr/bin/env node
/**
 * Entry point of the pipeline simulator (demos only): consumes generation.jobs.requested and records
 * receipts through ReceiptService. Reads NATS_URL, RECEIPTS_URL, EVENT_NAMESPACE, LOG_LEVEL, and
 * SIMULATOR_FAIL_FRACTION, SIMULATOR_FAIL_SEGMENTS, SIMULATOR_TAMPER_FRACTION, SIMULATOR_TAMPER_SEGMENTS,
 * SIMULATOR_GENERATION_MS.
 */
import { ConfigError, connectEvents, createLogger, loadConfig, onShutdownSignal } from "@provenance/shared";
import { startPipelineSimulator } from "./pipeline-simulator.js";

function fraction(name: string): number {
  const raw = process.env[name]?.trim();
  if (!raw) return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(name, `must be a number from 0 to 1, got "${raw}"`);
  return n;
}

function list(name: string): string[] {
  return (process.env[name] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function millis(name: string): number {
  const raw = process.env[name]?.trim();
  if (!raw) return 0;
  if (!/^\d{1,7}$/.test(raw)) throw new ConfigError(name, `must be a whole number of milliseconds, got "${raw}"`);
  return Number(raw);
}

const config = loadConfig("regeneration");
const logger = createLogger("pipeline-simulator", config.logLevel);
const nc = await connectEvents(config.natsUrl, "pipeline-simulator", logger);
const simulator = await startPipelineSimulator({
  nc,
  namespace: config.eventNamespace,
  receiptsUrl: config.receiptsUrl,
  logger,
  failFraction: fraction("SIMULATOR_FAIL_FRACTION"),
  failSegmentIds: list("SIMULATOR_FAIL_SEGMENTS"),
  tamperFraction: fraction("SIMULATOR_TAMPER_FRACTION"),
  tamperSegmentIds: list("SIMULATOR_TAMPER_SEGMENTS"),
  generationMs: millis("SIMULATOR_GENERATION_MS"),
});
logger.info({ receiptsUrl: config.receiptsUrl, natsUrl: config.natsUrl }, "pipeline simulator consuming generation.jobs.requested");
onShutdownSignal(async () => {
  await simulator.stop();
  await nc.drain();
}, logger);
