/** Wires the staleness service from its config: the shared service runtime, the receipt projection, the detector, the watch hub, the server. */
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
import { callerOf } from "@provenance/shared/auth";
import { stalenessResolvers } from "./app/item-projects.js";
import { DetectStaleness, type DetectStalenessOptions } from "./app/detect-staleness.js";
import { ProjectReceipts } from "./app/project-receipts.js";
import { readPinExpiryCheckMs, readWatchLimits } from "./config.js";
import type { WatchLimits } from "./domain/watch-bounds.js";
import { PinExpiryTimer } from "./events/pin-expiry-timer.js";
import { startReceiptProjection } from "./events/receipt-projection.js";
import { StalenessDetector, type StalenessDetectorOptions } from "./events/staleness-detector.js";
import { StalenessHub, type WatchCaller } from "./events/staleness-hub.js";
import { STALENESS_APP_ROLE, stalenessMigrations } from "./persistence/migrations/index.js";
import { PROJECTION_CONSUMER } from "./persistence/projection-repository.js";
import { STALENESS_SCHEMA } from "./persistence/schema.js";
import { createServer } from "./server.js";

/** A running staleness service. */
export interface RunningStaleness extends RunningService {
  /** Receipt events (RECEIPT_CREATED, RECEIPT_COMPLETED) the projection has not yet applied. */
  projectionLag(): Promise<number>;
  /** Bytes of changes handed to WatchStaleness streams and not yet sent, and the streams waiting to be sent theirs. */
  watchBuffered(): { bytes: number; waitingStreams: number };
  /** WatchStaleness streams holding a slot (registered watchers). */
  watcherCount(): number;
}

function runtimeOptions(config: ServiceConfig, logger: Logger) {
  return { config, logger, schema: STALENESS_SCHEMA, migrations: stalenessMigrations, appRole: STALENESS_APP_ROLE, resolvers: stalenessResolvers };
}

/** Applies the staleness schema's migrations and returns (the Kubernetes migration Job runs this). */
export async function migrateStaleness(config: ServiceConfig, logger: Logger): Promise<void> {
  await migrateService(runtimeOptions(config, logger));
}

/** Tuning that is not configuration (the detector's poll interval and concurrency, a hook tests interrupt it with), and what WatchStaleness streams are held to. */
export interface StalenessOptions {
  detector?: Pick<StalenessDetectorOptions, "pollIntervalMs" | "concurrency"> & Pick<DetectStalenessOptions, "afterProject">;
  /**
   * The bounds on WatchStaleness streams; default: `WATCH_QUEUE_LENGTH`, `WATCH_MAX_STREAMS_PER_CALLER`,
   * `WATCH_MAX_STREAMS`, `WATCH_MAX_BUFFERED_BYTES` from the environment.
   */
  watchLimits?: WatchLimits;
  /** Who holds a WatchStaleness stream, for `WATCH_MAX_STREAMS_PER_CALLER`; default: the caller's token `sub`. */
  watchCaller?: WatchCaller;
  /** How long a stream whose reader fell behind may take to read its RESOURCE_EXHAUSTED before it is reset (default 5 s). */
  watchCutOffGraceMs?: number;
  /** How long a stream may hold a change its transport does not take while others wait for `WATCH_MAX_BUFFERED_BYTES` (default 5 s). */
  watchHoldLimitMs?: number;
  /** How often the expiry timer looks for expired pins, in ms; default: `PIN_EXPIRY_CHECK_MS` from the environment (5,000). */
  pinExpiryCheckMs?: number;
}

/** The default WatchStaleness caller: the subject of the stream's (already decided) bearer token. */
const tokenSubjectCaller: WatchCaller = (ctx) => callerOf(ctx).principal.subject;

/** Starts the staleness service; `config.port` 0 picks a free port. */
export async function startStaleness(
  config: ServiceConfig,
  logger: Logger = createLogger("staleness", config.logLevel),
  options: StalenessOptions = {},
): Promise<RunningStaleness> {
  const watchLimits = options.watchLimits ?? readWatchLimits();
  const pinExpiryCheckMs = options.pinExpiryCheckMs ?? readPinExpiryCheckMs();
  const runtime = await startServiceRuntime(runtimeOptions(config, logger));
  try {
    const hub = new StalenessHub({
      nc: runtime.events,
      namespace: config.eventNamespace,
      logger,
      limits: watchLimits,
      callerOf: options.watchCaller ?? tokenSubjectCaller,
      cutOffGraceMs: options.watchCutOffGraceMs,
      holdLimitMs: options.watchHoldLimitMs,
      metrics: runtime.metrics,
    });
    await hub.start();
    runtime.onStop(() => hub.stop());
    const projection = await startReceiptProjection({
      nc: runtime.events,
      namespace: config.eventNamespace,
      projection: new ProjectReceipts(runtime.dataSource),
      logger,
    });
    runtime.onStop(() => projection.stop());
    observeConsumers(runtime.metrics, { [PROJECTION_CONSUMER]: projection });
    const detectionLatency = detectionLatencyHistogram(runtime.metrics);
    const detector = new StalenessDetector({
      pollIntervalMs: options.detector?.pollIntervalMs,
      concurrency: options.detector?.concurrency,
      detection: new DetectStaleness({
        dataSource: runtime.dataSource,
        logger,
        observeDetection: (seconds) => detectionLatency.observe(seconds),
        afterProject: options.detector?.afterProject,
      }),
      logger,
    });
    const server = createServer({
      dataSource: runtime.dataSource,
      auth: runtime.auth,
      hub,
      logger,
      metrics: runtime.metrics,
      readiness: runtime.readiness,
      corsOrigins: config.corsOrigins,
      compressMinBytes: config.compressMinBytes,
      limits: config.limits,
      onCurrentChanged: () => detector.wake(),
    });
    const running = await runtime.listen(server);
    // Resumes what a previous run left unfinished. Stopped first on the way down: a change committed while requests
    // drain stays queued for the next start or another replica.
    // Stopped after the detector (stops run last-registered first).
    const pinExpiry = new PinExpiryTimer({ dataSource: runtime.dataSource }, logger, pinExpiryCheckMs);
    pinExpiry.start();
    runtime.onStop(() => pinExpiry.stop());
    detector.start();
    runtime.onStop(() => detector.stop());
    return { ...running, projectionLag: () => projection.lag(), watcherCount: () => hub.watcherCount, watchBuffered: () => hub.buffered };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
