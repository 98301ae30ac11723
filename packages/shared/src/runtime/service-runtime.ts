/**
 * What every service does around its own handlers, once: apply migrations, open its database as
 * its login role, check callers (tokens, grants, the access table), connect to NATS (or the in-process
 * bus), make sure the streams exist, relay its outbox, expose metrics and readiness, and stop all of
 * it in the right order.
 */
import type { Registry } from "prom-client";
import type { DataSource } from "typeorm";
import type { ProjectResolvers } from "../auth/access-decision.js";
import { createServiceAuth, type ServiceAuth } from "../auth/service-auth.js";
import type { ServiceConfig } from "../config/index.js";
import { checkDatabase, migrateDatabase, openDatabase, refuseForeignLogin, type DatabaseOptions } from "../db/index.js";
import type { MigrationClass } from "../db/database-options.js";
import { connectEvents, eventsReachable, type EventConnection } from "../events/event-connection.js";
import { OutboxRelay } from "../events/outbox-relay.js";
import { ensureStreams } from "../events/streams.js";
import type { Logger } from "../logging/index.js";
import { createMetricsRegistry, observeOutbox } from "../metrics/index.js";
import type { ServiceServer } from "../server/index.js";

/** A service's schema, migrations and role, with its config. */
export interface ServiceRuntimeOptions {
  config: ServiceConfig;
  logger: Logger;
  /** The one schema the service owns. */
  schema: string;
  migrations: MigrationClass[];
  /** The login role the service runs as: DATABASE_URL must log in as it, with no more than its grants. */
  appRole: string;
  /**
   * The service's item resolvers over its database (receipts: receipt, segment; staleness: asset; regeneration:
   * batch), one query per request and kind, for the access decision.
   */
  resolvers?: (dataSource: DataSource) => ProjectResolvers;
}

/** A service listening on its port. */
export interface RunningService {
  readonly url: string;
  readonly port: number;
  /** Drains requests, stops consumers and the relay, closes events and the database; safe to call twice. */
  stop(): Promise<void>;
}

/** The shared part of a running service, for its start.ts to add its handlers and consumers to. */
export interface ServiceRuntime {
  readonly dataSource: DataSource;
  /**
   * Identity and access from `config.auth`: `auth.interceptor` for the server's chain (commonServerOptions puts it
   * inside the error mapping, before validation), `auth.decide` for REST routes, `auth.outbound` for the service's
   * clients (the caller's token with `actingFor`, else SERVICE_TOKEN_FILE).
   */
  readonly auth: ServiceAuth;
  readonly events: EventConnection;
  readonly relay: OutboxRelay;
  /** The registry /metrics serves; the outbox backlog is on it already. */
  readonly metrics: Registry;
  /** Whether the database and the event connection are usable (for /readyz and gRPC health). */
  readiness(): Promise<boolean>;
  /** Registers something (a consumer, a hub) to stop after the server drains and before the relay stops. */
  onStop(stop: () => Promise<void>): void;
  /** Listens with `server` on the configured host and port. */
  listen(server: ServiceServer): Promise<RunningService>;
  /** Stops what was started so far, for a start that failed half-way. */
  close(): Promise<void>;
}

function databaseOptions(o: ServiceRuntimeOptions): DatabaseOptions {
  return {
    url: o.config.databaseUrl,
    migrationUrl: o.config.migrationDatabaseUrl,
    schema: o.schema,
    migrations: o.migrations,
    appRole: o.appRole,
    logger: o.logger,
  };
}

/** Applies the service's migrations as the schema owner (what `--migrate-only` and the Kubernetes Job run). */
export async function migrateService(o: ServiceRuntimeOptions): Promise<void> {
  await migrateDatabase(databaseOptions(o));
}

/**
 * Migrates, opens the database (refusing a login role with more than its grants), reads the identity-and-access
 * files, connects events, ensures the streams and starts the outbox relay.
 */
export async function startServiceRuntime(o: ServiceRuntimeOptions): Promise<ServiceRuntime> {
  const { config, logger, schema } = o;
  const stops: (() => Promise<void>)[] = [];
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      for (const stop of stops.reverse()) await stop();
    })();
    return closed;
  };
  try {
    const db = databaseOptions(o);
    // A DATABASE_URL that is not the service's role at all is refused before anything is migrated.
    await refuseForeignLogin(db.url, o.appRole, schema);
    await migrateDatabase(db);
    const dataSource = await openDatabase(db);
    stops.push(() => dataSource.destroy());
    const auth = await createServiceAuth(config.auth, { resolvers: o.resolvers?.(dataSource), logger });
    const events = await connectEvents(config.natsUrl, config.service, logger);
    stops.push(() => events.drain());
    await ensureStreams(events, config.eventNamespace);
    const relay = new OutboxRelay({ dataSource, schema, nc: events, namespace: config.eventNamespace, logger });
    await relay.start();
    stops.push(() => relay.stop());
    const metrics = createMetricsRegistry(config.service);
    observeOutbox(metrics, schema, relay);
    return {
      dataSource,
      auth,
      events,
      relay,
      metrics,
      readiness: async () => (await Promise.all([eventsReachable(events), checkDatabase(dataSource)])).every(Boolean),
      onStop: (stop) => void stops.push(stop),
      close,
      async listen(server) {
        const { url, port } = await server.listen(config.port, config.host);
        stops.push(() => server.close());
        logger.info({ url }, `${config.service} service listening`);
        return { url, port, stop: close };
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
