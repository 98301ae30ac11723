/** Wires the receipts service from its config: migrations, database, NATS, outbox relay, server. */
import {
  OutboxRelay,
  checkDatabase,
  connectEvents,
  createLogger,
  createMetricsRegistry,
  observeOutbox,
  ensureStreams,
  migrateDatabase,
  openDatabase,
  type Logger,
  type ServiceConfig,
} from "@provenance/shared";
import { RECEIPTS_APP_ROLE, receiptsMigrations } from "./persistence/migrations/index.js";
import { RECEIPTS_SCHEMA } from "./persistence/receipt-repository.js";
import { AssetServiceVersionLookup, type AssetVersionLookup } from "./rpc/asset-versions.js";
import { createServer } from "./server.js";

/** A running receipts service. */
export interface RunningReceipts {
  readonly url: string;
  readonly port: number;
  /** Drains requests, stops the relay, closes NATS and the database; safe to call twice. */
  stop(): Promise<void>;
}

/** Optional stand-ins for dependencies, for tests that do not run them. */
export interface ReceiptsOverrides {
  assetVersions?: AssetVersionLookup;
}

function databaseOptions(config: ServiceConfig, logger: Logger) {
  return {
    url: config.databaseUrl,
    migrationUrl: config.migrationDatabaseUrl,
    schema: RECEIPTS_SCHEMA,
    migrations: receiptsMigrations,
    appRole: RECEIPTS_APP_ROLE,
    logger,
  };
}

/** Applies the receipts schema's migrations and returns (the Kubernetes migration Job runs this). */
export async function migrateReceipts(config: ServiceConfig, logger: Logger): Promise<void> {
  await migrateDatabase(databaseOptions(config, logger));
}

/** Starts the receipts service; `config.port` 0 picks a free port. */
export async function startReceipts(
  config: ServiceConfig,
  logger: Logger = createLogger("receipts", config.logLevel),
  overrides: ReceiptsOverrides = {},
): Promise<RunningReceipts> {
  const db = databaseOptions(config, logger);
  await migrateDatabase(db);
  const dataSource = await openDatabase(db);
  const nc = await connectEvents(config.natsUrl, "receipts", logger);
  await ensureStreams(nc, config.eventNamespace);
  const relay = new OutboxRelay({ dataSource, schema: RECEIPTS_SCHEMA, nc, namespace: config.eventNamespace, logger });
  await relay.start();
  const metrics = createMetricsRegistry("receipts");
  observeOutbox(metrics, RECEIPTS_SCHEMA, relay);
  const server = createServer({
    metrics,
    corsOrigins: config.corsOrigins,
    dataSource,
    logger,
    assetVersions: overrides.assetVersions ?? new AssetServiceVersionLookup(config.stalenessUrl),
    readiness: async () => !nc.isClosed() && (await checkDatabase(dataSource)),
  });
  const { url, port } = await server.listen(config.port, config.host);
  logger.info({ url }, "receipts service listening");
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    stop() {
      stopped ??= (async () => {
        await server.close();
        await relay.stop();
        await nc.drain();
        await dataSource.destroy();
      })();
      return stopped;
    },
  };
}
