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
import type { DataSource } from "typeorm";
import { regenerationResolvers } from "./app/item-projects.js";
import { PlanRegeneration } from "./app/plan-regeneration.js";
import { EstimateGpuTime } from "./app/estimate-gpu-time.js";
import { ReadBatches } from "./app/read-batches.js";
import { Reproductions } from "./app/reproduce-segment.js";
import { SubmitRegeneration } from "./app/submit-regeneration.js";
import { LIFECYCLE_CONSUMER, TrackJobProgress } from "./app/track-job-progress.js";
import { TrackReproduction } from "./app/track-reproduction.js";
import { ConnectPlanSources, type PlanSources } from "./clients/plan-sources.js";
import { ConnectReceiptReads, type ReceiptReads } from "./clients/receipt-reads.js";
import { startJobLifecycle } from "./events/job-lifecycle-consumer.js";
import { BatchRepository } from "./persistence/batch-repository.js";
import { JobRepository } from "./persistence/job-repository.js";
import { REGENERATION_APP_ROLE, REGENERATION_SCHEMA, regenerationMigrations } from "./persistence/migrations/index.js";
import type { RegenerationUseCases } from "./rpc/regeneration-handlers.js";
import { createServer } from "./server.js";

/** A running regeneration service. */
export interface RunningRegeneration extends RunningService {
  /** Receipt events the job lifecycle consumer has not yet applied. */
  lifecycleLag(): Promise<number>;
}

/** Optional stand-ins for dependencies, for tests that do not run them. */
export interface RegenerationOverrides {
  sources?: PlanSources;
  receiptReads?: ReceiptReads;
}

/** The use cases the RPCs and the REST route serve, over one DataSource and the planning clients. */
function useCasesOf(dataSource: DataSource, sources: PlanSources, receiptReads: ReceiptReads): RegenerationUseCases {
  const jobs = new JobRepository(dataSource);
  const read = new ReadBatches(new BatchRepository(dataSource), jobs);
  const estimator = new EstimateGpuTime(receiptReads);
  const plan = new PlanRegeneration(sources, jobs, estimator);
  return {
    plan,
    read,
    submit: new SubmitRegeneration(dataSource, plan, read),
    reproductions: new Reproductions(dataSource, receiptReads, estimator),
  };
}

function runtimeOptions(config: ServiceConfig, logger: Logger) {
  return {
    config,
    logger,
    schema: REGENERATION_SCHEMA,
    migrations: regenerationMigrations,
    appRole: REGENERATION_APP_ROLE,
    resolvers: regenerationResolvers,
  };
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
      track: new TrackJobProgress(runtime.dataSource),
      reproductions: new TrackReproduction(runtime.dataSource),
      logger,
    });
    runtime.onStop(() => lifecycle.stop());
    observeConsumers(runtime.metrics, { [LIFECYCLE_CONSUMER]: lifecycle });
    const sources =
      overrides.sources ??
      new ConnectPlanSources({ receiptsUrl: config.receiptsUrl, stalenessUrl: config.stalenessUrl, outbound: runtime.auth.outbound });
    const server = createServer({
      auth: runtime.auth,
      useCases: useCasesOf(
        runtime.dataSource,
        sources,
        overrides.receiptReads ?? new ConnectReceiptReads({ receiptsUrl: config.receiptsUrl, outbound: runtime.auth.outbound }),
      ),
      logger,
      metrics: runtime.metrics,
      readiness: runtime.readiness,
      corsOrigins: config.corsOrigins,
      compressMinBytes: config.compressMinBytes,
      limits: config.limits,
    });
    const running = await runtime.listen(server);
    return { ...running, lifecycleLag: () => lifecycle.lag() };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
