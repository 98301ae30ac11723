/** Wires the regeneration service from its config: the shared service runtime, the job lifecycle consumer, the server. */
import {
  createLogger,
  migrateService,
  observeConsumers,
  startServiceRuntime,
  type Logger,
  type RunningService,
  type ServiceConfig,
} from "@provenance/shared";
import { startJobLifecycle } from "./events/job-lifecycle-consumer.js";
import { REGENERATION_APP_ROLE, regenerationMigrations } from "./persistence/migrations/index.js";
import { REGENERATION_SCHEMA, RegenerationRepository } from "./persistence/regeneration-repository.js";
import { ConnectPlanSources, type PlanSources } from "./rpc/dependency-clients.js";
import { createServer } from "./server.js";

/** A running regeneration service. */
export interface RunningRegeneration extends RunningService {
  /** Receipt events the job lifecycle consumer has not yet applied. */
  lifecycleLag(): Promise<number>;
}

/** Optional stand-ins for dependencies, for tests that do not run them. */
export interface RegenerationOverrides {
  sources?: PlanSources;
}

function runtimeOptions(config: ServiceConfig, logger: Logger) {
  return { config, logger, schema: REGENERATION_SCHEMA, migrations: regenerationMigrations, appRole: REGENERATION_APP_ROLE };
}

/** Applies the regeneration schema's migrations and returns (the Kubernetes migration Job runs this). */
export async function migrateRegeneration(config: ServiceConfig, logger: Logger): Promise<void> {
  await migrateService(runtimeOptions(config, logger));
}

/** Starts the regeneration service; `config.port` 0 picks a free port. */
export async function startRegeneration(
  config: ServiceConfig,
  logger: Logger = createLogger("regeneration", config.logLevel),
  overrides: RegenerationOverrides = {},
): Promise<RunningRegeneration> {
  const runtime = await startServiceRuntime(runtimeOptions(config, logger));
  try {
    const lifecycle = await startJobLifecycle({
      nc: runtime.events,
      namespace: config.eventNamespace,
      repo: new RegenerationRepository(runtime.dataSource),
      logger,
    });
    runtime.onStop(() => lifecycle.stop());
    observeConsumers(runtime.metrics, { "regeneration-job-lifecycle": lifecycle });
    const server = createServer({
      dataSource: runtime.dataSource,
      logger,
      metrics: runtime.metrics,
      readiness: runtime.readiness,
      corsOrigins: config.corsOrigins,
      compressMinBytes: config.compressMinBytes,
      sources: overrides.sources ?? new ConnectPlanSources({ receiptsUrl: config.receiptsUrl, stalenessUrl: config.stalenessUrl }),
    });
    const running = await runtime.listen(server);
    return { ...running, lifecycleLag: () => lifecycle.lag() };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
