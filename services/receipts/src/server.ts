/** The receipts server: ReceiptService routes, health and REST paths on one port. Never listens itself. */
import { create, toJson } from "@bufbuild/protobuf";
import type { DataSource } from "typeorm";
import {
  commonServerOptions,
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
import type { AssetVersionLookup } from "./clients/asset-versions.js";
import { ReceiptHandlers } from "./rpc/receipt-handlers.js";
import { receiptRules } from "./rpc/receipt-rules.js";

/** What the receipts server needs. */
export interface ReceiptsServerDeps extends CommonServerDeps {
  dataSource: DataSource;
  assetVersions: AssetVersionLookup;
}

function uint(query: URLSearchParams, name: string): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return 0;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 0xffffffff) throw invalidArgument(name, `must be a whole number, got "${raw}"`);
  return Number(raw);
}

/** Creates the receipts server. */
export function createServer(deps: ReceiptsServerDeps): ServiceServer {
  const handlers = new ReceiptHandlers(deps);
  return createServiceServer({
    name: "receipts",
    services: [ReceiptService.typeName],
    routes: (router) => router.service(ReceiptService, handlers),
    ...commonServerOptions(deps, receiptRules),
    rest: [
      {
        method: "GET",
        path: "/api/segments/:id/provenance",
        handler: async ({ params }) => {
          const req = create(GetSegmentProvenanceRequestSchema, { segmentId: params.id });
          validate(GetSegmentProvenanceRequestSchema, req, receiptRules);
          const res = await handlers.getSegmentProvenance(req);
          return toJson(GetSegmentProvenanceResponseSchema, res);
        },
      },
      {
        method: "GET",
        path: "/api/assets/:id/usage",
        handler: async ({ params, query }) => {
          const req = create(GetAssetUsageRequestSchema, {
            assetId: params.id,
            version: uint(query, "version"),
            contentHash: query.get("content_hash") ?? "",
            pageSize: uint(query, "page_size"),
            pageToken: query.get("page_token") ?? "",
          });
          validate(GetAssetUsageRequestSchema, req, receiptRules);
          const res = await handlers.getAssetUsage(req);
          return toJson(GetAssetUsageResponseSchema, res);
        },
      },
    ],
  });
}
