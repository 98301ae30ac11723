/** The receipts server: ReceiptService routes, health and REST paths on one port. Never listens itself. */
import { create, toJson } from "@bufbuild/protobuf";
import type { DataSource } from "typeorm";
import {
  CompareReceiptsRequestSchema,
  CompareReceiptsResponseSchema,
  GetCoverageRequestSchema,
  GetCoverageResponseSchema,
  commonServerOptions,
  decidedRestRoute,
  type CommonServerDeps,
  GetAssetUsageRequestSchema,
  GetAssetUsageResponseSchema,
  GetSegmentProvenanceRequestSchema,
  GetSegmentProvenanceResponseSchema,
  ReceiptService,
  createServiceServer,
  invalidArgument,
  validate,
  type ServiceServer,
} from "@provenance/shared";
import type { ServiceAuth } from "@provenance/shared/auth";
import type { NoteVerifier } from "@provenance/shared/receipt-log";
import { MAX_GROUP_COMMIT_SIZE, configureGroupCommit } from "./app/group-commit.js";
import { CoverageMetric, getCoverage, type CoverageDeps } from "./app/get-coverage.js";
import type { AssetVersionLookup } from "./clients/asset-versions.js";
import { DEFAULT_RUNNING_LIMIT_SECONDS } from "./config.js";
import { ReceiptHandlers } from "./rpc/receipt-handlers.js";
import { receiptRules } from "./rpc/receipt-rules.js";

/** What the receipts server needs. */
export interface ReceiptsServerDeps extends CommonServerDeps {
  /** Decides every RPC (interceptor) and REST route (the same decision). */
  auth: ServiceAuth;
  dataSource: DataSource;
  assetVersions: AssetVersionLookup;
  /** RECEIPT_RUNNING_LIMIT_SECONDS (default {@link DEFAULT_RUNNING_LIMIT_SECONDS}). */
  runningLimitSeconds?: number;
  /** The receipt log's published key (GetCheckpoint). */
  receiptLogVerifier: NoteVerifier;
  /** RECEIPT_GROUP_COMMIT_MAX_SIZE (default 1,000): single calls written per transaction at most. */
  groupCommitMaxSize?: number;
}

function uint(query: URLSearchParams, name: string): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return 0;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 0xffffffff) throw invalidArgument(name, `must be a whole number, got "${raw}"`);
  return Number(raw);
}

/** Creates the receipts server. */
export function createServer(deps: ReceiptsServerDeps): ServiceServer {
  const coverage: Omit<CoverageDeps, "dataSource"> = { runningLimitSeconds: deps.runningLimitSeconds ?? DEFAULT_RUNNING_LIMIT_SECONDS };
  if (deps.metrics) {
    const everyProject = { ...coverage, dataSource: deps.dataSource };
    coverage.metric = new CoverageMetric(deps.metrics, () => getCoverage(everyProject, undefined, { all: true }));
  }
  configureGroupCommit(deps.dataSource, { maxSize: deps.groupCommitMaxSize ?? MAX_GROUP_COMMIT_SIZE, metrics: deps.metrics });
  const handlers = new ReceiptHandlers({ ...deps, coverage });
  return createServiceServer({
    name: "receipts",
    services: [ReceiptService.typeName],
    routes: (router) => router.service(ReceiptService, handlers),
    ...commonServerOptions(deps, receiptRules),
    rest: [
      decidedRestRoute(deps.auth, {
        method: "GET",
        path: "/api/segments/:id/provenance",
        request: ({ params }) => create(GetSegmentProvenanceRequestSchema, { segmentId: params.id }),
        handle: async (req, caller) => {
          validate(GetSegmentProvenanceRequestSchema, req, receiptRules);
          return toJson(GetSegmentProvenanceResponseSchema, await handlers.segmentProvenance(req, caller));
        },
      }),
      decidedRestRoute(deps.auth, {
        method: "GET",
        path: "/api/assets/:id/usage",
        request: ({ params, query }) =>
          create(GetAssetUsageRequestSchema, {
            assetId: params.id,
            version: uint(query, "version"),
            contentHash: query.get("content_hash") ?? "",
            pageSize: uint(query, "page_size"),
            pageToken: query.get("page_token") ?? "",
          }),
        handle: async (req, caller) => {
          validate(GetAssetUsageRequestSchema, req, receiptRules);
          return toJson(GetAssetUsageResponseSchema, await handlers.assetUsage(req, caller));
        },
      }),
      decidedRestRoute(deps.auth, {
        method: "GET",
        path: "/api/receipts/:left/compare/:right",
        request: ({ params }) => create(CompareReceiptsRequestSchema, { leftReceiptId: params.left, rightReceiptId: params.right }),
        handle: async (req) => {
          validate(CompareReceiptsRequestSchema, req, receiptRules);
          return toJson(CompareReceiptsResponseSchema, await handlers.compareReceipts(req));
        },
      }),
      decidedRestRoute(deps.auth, {
        method: "GET",
        path: "/api/coverage",
        request: ({ query }) => create(GetCoverageRequestSchema, { projectId: query.get("project_id") ?? "" }),
        handle: async (req, caller) => {
          validate(GetCoverageRequestSchema, req, receiptRules);
          return toJson(GetCoverageResponseSchema, await handlers.coverage(req, caller));
        },
      }),
      decidedRestRoute(deps.auth, {
        method: "GET",
        path: "/api/projects/:id/coverage",
        request: ({ params }) => create(GetCoverageRequestSchema, { projectId: params.id }),
        handle: async (req, caller) => {
          validate(GetCoverageRequestSchema, req, receiptRules);
          return toJson(GetCoverageResponseSchema, await handlers.coverage(req, caller));
        },
      }),
    ],
  });
}
