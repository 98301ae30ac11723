/** Wires the receipts service from its config: the shared service runtime plus the ReceiptService server. */
import { createLogger, migrateService, startServiceRuntime, type Logger, type RunningService, type ServiceConfig } from "@provenance/shared";
import { receiptsResolvers } from "./app/item-projects.js";
import { RECEIPTS_APP_ROLE, receiptsMigrations } from "./persistence/migrations/index.js";
import { AssetServiceVersionLookup, type AssetVersionLookup } from "./clients/asset-versions.js";
import { RECEIPTS_SCHEMA } from "./persistence/schema.js";
import { createServer } from "./server.js";

/** A running receipts service. */
export type RunningReceipts = RunningService;

/** Optional stand-ins for dependencies, for tests that do not run them. */
export interface ReceiptsOverrides {
  assetVersions?: AssetVersionLookup;
}

function runtimeOptions(config: ServiceConfig, logger: Logger) {
  return { config, logger, schema: RECEIPTS_SCHEMA, migrations: receiptsMigrations, appRole: RECEIPTS_APP_ROLE, resolvers: receiptsResolvers };
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
  const runtime = await startServiceRuntime(runtimeOptions(config, logger));
  try {
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
    });
    return await runtime.listen(server);
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
