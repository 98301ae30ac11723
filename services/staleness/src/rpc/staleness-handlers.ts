/** StalenessService: report and stale segments computed at query time, and the live stream of detected changes. */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  GetStalenessReportResponseSchema,
  ListStaleSegmentsResponseSchema,
  StaleSegmentSchema,
  StalenessReasonSchema,
  WatchStalenessResponseSchema,
  decodePageToken,
  encodePageToken,
  pageSizeOf,
  type GetStalenessReportRequest,
  type ListStaleSegmentsRequest,
  type StalenessService,
  type WatchStalenessRequest,
} from "@provenance/shared";
import { assetKindOf, inputRoleOf } from "../domain/asset-kinds.js";
import { toAssetStaleness } from "../domain/staleness-groups.js";
import type { StalenessRepository } from "../persistence/staleness-repository.js";
import type { StalenessHub } from "../events/staleness-hub.js";

function given(s: string): string | undefined {
  return s === "" ? undefined : s;
}

/** The StalenessService implementation. */
export class StalenessHandlers implements ServiceImpl<typeof StalenessService> {
  constructor(
    private readonly staleness: StalenessRepository,
    private readonly hub: StalenessHub,
  ) {}

  async getStalenessReport(req: GetStalenessReportRequest) {
    const r = await this.staleness.report(given(req.projectId));
    return create(GetStalenessReportResponseSchema, {
      projectId: req.projectId,
      totalActiveSegments: r.totalActiveSegments,
      totalStaleSegments: r.totalStaleSegments,
      totalStaleScenes: r.totalStaleScenes,
      untrackedInputs: r.untrackedInputs,
      byAsset: r.groups.map(toAssetStaleness),
    });
  }

  async listStaleSegments(req: ListStaleSegmentsRequest) {
    const limit = pageSizeOf(req.pageSize);
    const rows = await this.staleness.staleSegments(
      { projectId: given(req.projectId), assetId: given(req.assetId) },
      limit,
      decodePageToken(req.pageToken),
    );
    const last = rows.at(-1);
    return create(ListStaleSegmentsResponseSchema, {
      segments: rows.map((s) =>
        create(StaleSegmentSchema, {
          segmentId: s.segmentId,
          sceneId: s.sceneId,
          projectId: s.projectId,
          characterName: s.characterName,
          sequenceIndex: s.sequenceIndex,
          receiptId: s.receiptId,
          reasons: s.reasons.map((x) =>
            create(StalenessReasonSchema, {
              kind: assetKindOf(x.kind),
              assetId: x.assetId,
              assetName: x.assetName,
              receiptVersion: x.receiptVersion,
              currentVersion: x.currentVersion,
              role: inputRoleOf(x.role),
              receiptContentHash: x.receiptContentHash,
              currentContentHash: x.currentContentHash,
            }),
          ),
        }),
      ),
      nextPageToken: rows.length === limit && last ? encodePageToken(last.segmentId) : "",
    });
  }

  async *watchStaleness(req: WatchStalenessRequest, ctx: HandlerContext) {
    for await (const change of this.hub.watch(req.projectId, ctx.signal)) {
      yield create(WatchStalenessResponseSchema, { change });
    }
  }
}
