/** Wires the staleness service from its config: the shared service runtime, the receipt projection, the watch hub, the server. */
import {
  createLogger,
  detectionLatencyHistogram,
  migrateService,
  observeConsumers,
  startServiceRuntime,
  type Logger,
  type RunningService,
  type ServiceConfig,
} from "@provenance/shared";
import { startReceiptProjection } from "./events/receipt-projection.js";
import { StalenessHub } from "./events/staleness-hub.js";
import { STALENESS_SCHEMA } from "./persistence/asset-repository.js";
import { STALENESS_APP_ROLE, stalenessMigrations } from "./persistence/migrations/index.js";
import { PROJECTION_CONSUMER, ProjectionRepository } from "./persistence/projection-repository.js";
import { createServer } from "./server.js";

/** A running staleness service. */
export interface RunningStaleness extends RunningService {
  /** Messages of provenance.receipt.* the projection has not yet applied. */
  projectionLag(): Promise<number>;
}

function runtimeOptions(config: ServiceConfig, logger: Logger) {
  return { config, logger, schema: STALENESS_SCHEMA, migrations: stalenessMigrations, appRole: STALENESS_APP_ROLE };
}

/** Applies the staleness schema's migrations and returns (the Kubernetes migration Job runs this). */
export async function migrateStaleness(config: ServiceConfig, logger: Logger): Promise<void> {
  await migrateService(runtimeOptions(config, logger));
}

/** Starts the staleness service; `config.port` 0 picks a free port. */
export async function startStaleness(
  config: ServiceConfig,
  logger: Logger = createLogger("staleness", config.logLevel),
): Promise<RunningStaleness> {
  const runtime = await startServiceRuntime(runtimeOptions(config, logger));
  try {
    const hub = new StalenessHub(runtime.events, config.eventNamespace, logger);
    await hub.start();
    runtime.onStop(() => hub.stop());
    const projection = await startReceiptProjection({
      nc: runtime.events,
      namespace: config.eventNamespace,
      projection: new ProjectionRepository(runtime.dataSource),
      logger,
    });
    runtime.onStop(() => projection.stop());
    observeConsumers(runtime.metrics, { [PROJECTION_CONSUMER]: projection });
    const server = createServer({
      dataSource: runtime.dataSource,
      hub,
      logger,
      metrics: runtime.metrics,
      readiness: runtime.readiness,
      corsOrigins: config.corsOrigins,
      detectionLatency: detectionLatencyHistogram(runtime.metrics),
    });
    const running = await runtime.listen(server);
    return { ...running, projectionLag: () => projection.lag() };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
