/** The staleness server: AssetService and StalenessService routes, health and the REST report on one port. Never listens itself. */
import { create, toJson } from "@bufbuild/protobuf";
import type { Histogram, Registry } from "prom-client";
import type { DataSource } from "typeorm";
import {
  AssetService,
  GetStalenessReportRequestSchema,
  GetStalenessReportResponseSchema,
  StalenessService,
  createServiceServer,
  errorInterceptor,
  validate,
  validationInterceptor,
  type Logger,
  type ServiceServer,
} from "@provenance/shared";
import type { StalenessHub } from "./events/staleness-hub.js";
import { AssetRepository } from "./persistence/asset-repository.js";
import { StalenessRepository } from "./persistence/staleness-repository.js";
import { AssetHandlers } from "./rpc/asset-handlers.js";
import { StalenessHandlers } from "./rpc/staleness-handlers.js";
import { stalenessRules } from "./rpc/staleness-rules.js";

/** What the staleness server needs. */
export interface StalenessServerDeps {
  dataSource: DataSource;
  /** Feeds WatchStaleness. */
  hub: StalenessHub;
  logger: Logger;
  readiness?: () => Promise<boolean>;
  /** Where /metrics series are registered (createMetricsRegistry). */
  metrics?: Registry;
  /** Where detection latencies are observed (staleness_detection_latency_seconds). */
  detectionLatency?: Histogram;
  /** Browser origins allowed by CORS (ServiceConfig.corsOrigins). */
  corsOrigins?: readonly string[] | "*";
}

/** Creates the staleness server. */
export function createServer(deps: StalenessServerDeps): ServiceServer {
  const assets = new AssetHandlers(new AssetRepository(deps.dataSource, deps.detectionLatency && ((s) => deps.detectionLatency!.observe(s))));
  const staleness = new StalenessHandlers(new StalenessRepository(deps.dataSource), deps.hub);
  return createServiceServer({
    name: "staleness",
    logger: deps.logger,
    services: [AssetService.typeName, StalenessService.typeName],
    routes: (router) => {
      router.service(AssetService, assets);
      router.service(StalenessService, staleness);
    },
    interceptors: [errorInterceptor(deps.logger), validationInterceptor(stalenessRules)],
    readiness: deps.readiness,
    metricsRegistry: deps.metrics,
    cors: deps.corsOrigins ? { allowedOrigins: deps.corsOrigins } : undefined,
    rest: [
      {
        method: "GET",
        path: "/api/projects/:id/staleness-report",
        handler: async ({ params }) => {
          const req = create(GetStalenessReportRequestSchema, { projectId: params.id });
          validate(GetStalenessReportRequestSchema, req, stalenessRules);
          // Zeros are written out: a REST reader should see "totalStaleSegments": 0, not a missing field.
          return toJson(GetStalenessReportResponseSchema, await staleness.getStalenessReport(req), { alwaysEmitImplicit: true });
        },
      },
    ],
  });
}
