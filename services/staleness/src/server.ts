/** The staleness server: AssetService and StalenessService routes, health and the REST report on one port. Never listens itself. */
import { create, toJson } from "@bufbuild/protobuf";
import type { DataSource } from "typeorm";
import {
  commonServerOptions,
  decidedRestRoute,
  type CommonServerDeps,
  AssetService,
  GetStalenessReportRequestSchema,
  GetStalenessReportResponseSchema,
  StalenessService,
  createServiceServer,
  validate,
  type ServiceServer,
} from "@provenance/shared";
import type { ServiceAuth } from "@provenance/shared/auth";
import type { StalenessHub } from "./events/staleness-hub.js";
import { AssetHandlers } from "./rpc/asset-handlers.js";
import { StalenessHandlers } from "./rpc/staleness-handlers.js";
import { stalenessRules } from "./rpc/staleness-rules.js";

/** What the staleness server needs. */
export interface StalenessServerDeps extends CommonServerDeps {
  /** Decides every RPC (interceptor) and the REST route (the same decision). */
  auth: ServiceAuth;
  dataSource: DataSource;
  /** Feeds WatchStaleness. */
  hub: StalenessHub;
  /** Called after a change of an asset's current version has committed (wakes the detector). */
  onCurrentChanged?: () => void;
}

/** Creates the staleness server. */
export function createServer(deps: StalenessServerDeps): ServiceServer {
  const app = { dataSource: deps.dataSource, onCurrentChanged: deps.onCurrentChanged };
  const assets = new AssetHandlers(app);
  const staleness = new StalenessHandlers(app, deps.hub);
  return createServiceServer({
    name: "staleness",
    services: [AssetService.typeName, StalenessService.typeName],
    routes: (router) => {
      router.service(AssetService, assets);
      // One method at a time, to keep WatchStaleness uncompressed: every stream is sent the same encoded change, and
      // compressing it would cost each stream a gzip of it (RPC_COMPRESS_MIN_BYTES still applies to the others).
      router.rpc(StalenessService.method.getStalenessReport, (req, ctx) => staleness.getStalenessReport(req, ctx));
      router.rpc(StalenessService.method.listStaleSegments, (req, ctx) => staleness.listStaleSegments(req, ctx));
      router.rpc(StalenessService.method.watchStaleness, (req, ctx) => staleness.watchStaleness(req, ctx), {
        compressMinBytes: Number.POSITIVE_INFINITY,
      });
      router.rpc(StalenessService.method.pinSegments, (req, ctx) => staleness.pinSegments(req, ctx));
      router.rpc(StalenessService.method.unpinSegments, (req, ctx) => staleness.unpinSegments(req, ctx));
      router.rpc(StalenessService.method.listPins, (req) => staleness.listPins(req));
    },
    ...commonServerOptions(deps, stalenessRules),
    rest: [
      decidedRestRoute(deps.auth, {
        method: "GET",
        path: "/api/projects/:id/staleness-report",
        request: ({ params }) => create(GetStalenessReportRequestSchema, { projectId: params.id }),
        handle: async (req, caller) => {
          validate(GetStalenessReportRequestSchema, req, stalenessRules);
          // Zeros are written out: a REST reader should see "totalStaleSegments": 0, not a missing field.
          return toJson(GetStalenessReportResponseSchema, await staleness.report(req, caller, "json"), { alwaysEmitImplicit: true });
        },
      }),
    ],
  });
}
