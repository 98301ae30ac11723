/** Wires the receipts service from its config: the shared service runtime plus the ReceiptService server. */
import { createLogger, migrateService, startServiceRuntime, type Logger, type RunningService, type ServiceConfig, type ServiceRuntime } from "@provenance/shared";
import { receiptsResolvers } from "./app/item-projects.js";
import { RECEIPTS_APP_ROLE, receiptsMigrations } from "./persistence/migrations/index.js";
import { AssetServiceVersionLookup, type AssetVersionLookup } from "./clients/asset-versions.js";
import { RECEIPTS_SCHEMA } from "./persistence/schema.js";
import { readGroupCommitMaxSize, readRunningLimitSeconds } from "./config.js";
import { createServer } from "./server.js";
import { ReceiptLogAuditor } from "./app/receipt-log-auditor.js";
import { ReceiptLogIntegrator } from "./app/receipt-log-integrator.js";
import { loadReceiptLogSigner } from "./app/receipt-log-signer.js";
import type { NoteSigner } from "@provenance/shared/receipt-log";

/** A running receipts service. */
export type RunningReceipts = RunningService;

/** Optional stand-ins for dependencies, for tests that do not run them. */
export interface ReceiptsOverrides {
  assetVersions?: AssetVersionLookup;
}

function runtimeOptions(config: ServiceConfig, logger: Logger) {
  return { config, logger, schema: RECEIPTS_SCHEMA, migrations: receiptsMigrations, appRole: RECEIPTS_APP_ROLE, resolvers: receiptsResolvers };
}

/**
 * The receipt log's integrator and auditor: the first checkpoint is signed before the service listens; both stop
 * after the server drains.
 */
async function startReceiptLog(runtime: ServiceRuntime, config: ServiceConfig, logger: Logger, signer: NoteSigner) {
  const { origin } = config.receiptLog;
  const auditor = new ReceiptLogAuditor({
    dataSource: runtime.dataSource,
    verifier: signer.verifier,
    origin,
    logger,
    metrics: runtime.metrics,
    events: runtime.events,
    eventNamespace: config.eventNamespace,
    rescanIntervalSeconds: config.receiptLog.auditIntervalSeconds,
  });
  const integrator = new ReceiptLogIntegrator({ dataSource: runtime.dataSource, signer, origin, logger, onAppended: (b) => auditor.observeAppend(b) });
  // The first checkpoint before listening; a log that cannot be appended to is logged (the auditor reports why), not fatal.
  await integrator.integrate().catch((err: unknown) => logger.error({ err }, "receipt log: integration failed; retrying"));
  await auditor.start();
  integrator.start();
  runtime.onStop(async () => {
    await integrator.stop();
    await auditor.stop();
  });
}

/** Applies the receipts schema's migrations and returns (the Kubernetes migration Job runs this). */
export async function migrateReceipts(config: ServiceConfig, logger: Logger): Promise<void> {
  await migrateService(runtimeOptions(config, logger));
}

/** Starts the receipts service; `config.port` 0 picks a free port. */
export async function startReceipts(
  config: ServiceConfig,
  logger: Logger = createLogger("receipts", config.logLevel),
  overrides: ReceiptsOverrides = {},
): Promise<RunningReceipts> {
  // The key is read before anything starts: a service that cannot sign its log does not start.
  const signer = await loadReceiptLogSigner(config.receiptLog);
  const runtime = await startServiceRuntime(runtimeOptions(config, logger));
  try {
    await startReceiptLog(runtime, config, logger, signer);
    const server = createServer({
      dataSource: runtime.dataSource,
      auth: runtime.auth,
      logger,
      metrics: runtime.metrics,
      readiness: runtime.readiness,
      corsOrigins: config.corsOrigins,
      compressMinBytes: config.compressMinBytes,
      limits: config.limits,
      assetVersions: overrides.assetVersions ?? new AssetServiceVersionLookup(config.stalenessUrl, undefined, runtime.auth.outbound),
      receiptLogVerifier: signer.verifier,
      runningLimitSeconds: readRunningLimitSeconds(),
      groupCommitMaxSize: readGroupCommitMaxSize(),
    });
    return await runtime.listen(server);
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
