/** Wires the regeneration service from its config: migrations, database, NATS, outbox relay, job lifecycle consumer, server. */
import {
  OutboxRelay,
  createMetricsRegistry,
  observeConsumers,
  observeOutbox,
  checkDatabase,
  connectEvents,
  createLogger,
  ensureStreams,
  migrateDatabase,
  openDatabase,
  type Logger,
  type ServiceConfig,
} from "@provenance/shared";
import { startJobLifecycle } from "./events/job-lifecycle-consumer.js";
import { REGENERATION_APP_ROLE, regenerationMigrations } from "./persistence/migrations/index.js";
import { REGENERATION_SCHEMA, RegenerationRepository } from "./persistence/regeneration-repository.js";
import { ConnectPlanSources, type PlanSources } from "./rpc/dependency-clients.js";
import { createServer } from "./server.js";

/** A running regeneration service. */
export interface RunningRegeneration {
  readonly url: string;
  readonly port: number;
  /** Receipt events the job lifecycle consumer has not yet applied. */
  lifecycleLag(): Promise<number>;
  /** Drains requests, stops the consumer and relay, closes NATS and the database. */
  stop(): Promise<void>;
}

/** Optional stand-ins for dependencies, for tests that do not run them. */
export interface RegenerationOverrides {
  sources?: PlanSources;
}

function databaseOptions(config: ServiceConfig, logger: Logger) {
  return {
    url: config.databaseUrl,
    migrationUrl: config.migrationDatabaseUrl,
    schema: REGENERATION_SCHEMA,
    migrations: regenerationMigrations,
    appRole: REGENERATION_APP_ROLE,
    logger,
  };
}

/** Applies the regeneration schema's migrations and returns (the Kubernetes migration Job runs this). */
export async function migrateRegeneration(config: ServiceConfig, logger: Logger): Promise<void> {
  await migrateDatabase(databaseOptions(config, logger));
}

/** Starts the regeneration service; `config.port` 0 picks a free port. */
export async function startRegeneration(
  config: ServiceConfig,
  logger: Logger = createLogger("regeneration", config.logLevel),
  overrides: RegenerationOverrides = {},
): Promise<RunningRegeneration> {
  const db = databaseOptions(config, logger);
  await migrateDatabase(db);
  const dataSource = await openDatabase(db);
  const nc = await connectEvents(config.natsUrl, "regeneration", logger);
  await ensureStreams(nc, config.eventNamespace);
  const relay = new OutboxRelay({ dataSource, schema: REGENERATION_SCHEMA, nc, namespace: config.eventNamespace, logger });
  await relay.start();
  const lifecycle = await startJobLifecycle({
    nc,
    namespace: config.eventNamespace,
    repo: new RegenerationRepository(dataSource),
    logger,
  });
  const metrics = createMetricsRegistry("regeneration");
  observeOutbox(metrics, REGENERATION_SCHEMA, relay);
  observeConsumers(metrics, { "regeneration-job-lifecycle": lifecycle });
  const server = createServer({
    metrics,
    corsOrigins: config.corsOrigins,
    dataSource,
    logger,
    sources: overrides.sources ?? new ConnectPlanSources({ receiptsUrl: config.receiptsUrl, stalenessUrl: config.stalenessUrl }),
    readiness: async () => !nc.isClosed() && (await checkDatabase(dataSource)),
  });
  const { url, port } = await server.listen(config.port, config.host);
  logger.info({ url, receiptsUrl: config.receiptsUrl, stalenessUrl: config.stalenessUrl }, "regeneration service listening");
  return {
    url,
    port,
    lifecycleLag: () => lifecycle.lag(),
    async stop() {
      await server.close();
      await lifecycle.stop();
      await relay.stop();
      await nc.drain();
      await dataSource.destroy();
    },
  };
}
