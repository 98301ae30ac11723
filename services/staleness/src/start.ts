/** Wires the staleness service from its config: migrations, database, NATS, outbox relay, projection consumer, watch hub, server. */
import {
  OutboxRelay,
  checkDatabase,
  connectEvents,
  createLogger,
  createMetricsRegistry,
  ensureStreams,
  migrateDatabase,
  detectionLatencyHistogram,
  observeConsumers,
  observeOutbox,
  openDatabase,
  type Logger,
  type ServiceConfig,
} from "@provenance/shared";
import { startReceiptProjection } from "./events/receipt-projection.js";
import { StalenessHub } from "./events/staleness-hub.js";
import { STALENESS_SCHEMA } from "./persistence/asset-repository.js";
import { STALENESS_APP_ROLE, stalenessMigrations } from "./persistence/migrations/index.js";
import { PROJECTION_CONSUMER, ProjectionRepository } from "./persistence/projection-repository.js";
import { createServer } from "./server.js";

/** A running staleness service. */
export interface RunningStaleness {
  readonly url: string;
  readonly port: number;
  /** Messages of provenance.receipt.* the projection has not yet applied. */
  projectionLag(): Promise<number>;
  /** Drains requests, stops the consumer, relay and hub, closes NATS and the database; safe to call twice. */
  stop(): Promise<void>;
}

function databaseOptions(config: ServiceConfig, logger: Logger) {
  return {
    url: config.databaseUrl,
    migrationUrl: config.migrationDatabaseUrl,
    schema: STALENESS_SCHEMA,
    migrations: stalenessMigrations,
    appRole: STALENESS_APP_ROLE,
    logger,
  };
}

/** Applies the staleness schema's migrations and returns (the Kubernetes migration Job runs this). */
export async function migrateStaleness(config: ServiceConfig, logger: Logger): Promise<void> {
  await migrateDatabase(databaseOptions(config, logger));
}

/** Starts the staleness service; `config.port` 0 picks a free port. */
export async function startStaleness(
  config: ServiceConfig,
  logger: Logger = createLogger("staleness", config.logLevel),
): Promise<RunningStaleness> {
  const db = databaseOptions(config, logger);
  await migrateDatabase(db);
  const dataSource = await openDatabase(db);
  const nc = await connectEvents(config.natsUrl, "staleness", logger);
  await ensureStreams(nc, config.eventNamespace);
  const relay = new OutboxRelay({ dataSource, schema: STALENESS_SCHEMA, nc, namespace: config.eventNamespace, logger });
  await relay.start();
  const hub = new StalenessHub(nc, config.eventNamespace, logger);
  await hub.start();
  const projection = await startReceiptProjection({
    nc,
    namespace: config.eventNamespace,
    projection: new ProjectionRepository(dataSource),
    logger,
  });
  const metrics = createMetricsRegistry("staleness");
  observeOutbox(metrics, STALENESS_SCHEMA, relay);
  observeConsumers(metrics, { [PROJECTION_CONSUMER]: projection });
  const server = createServer({
    dataSource,
    hub,
    logger,
    metrics,
    corsOrigins: config.corsOrigins,
    detectionLatency: detectionLatencyHistogram(metrics),
    readiness: async () => !nc.isClosed() && (await checkDatabase(dataSource)),
  });
  const { url, port } = await server.listen(config.port, config.host);
  logger.info({ url }, "staleness service listening");
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    projectionLag: () => projection.lag(),
    stop() {
      stopped ??= (async () => {
        await server.close();
        await projection.stop();
        await hub.stop();
        await relay.stop();
        await nc.drain();
        await dataSource.destroy();
      })();
      return stopped;
    },
  };
}
