/** StalenessService: validated requests in (see staleness-rules.ts), mapped to a use case in app/, messages out. */
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  GetStalenessReportResponseSchema,
  ListPinsResponseSchema,
  ListStaleSegmentsResponseSchema,
  PinSegmentsResponseSchema,
  UnpinSegmentsResponseSchema,
  StaleSegmentSchema,
  StalenessReasonSchema,
  decodePageToken,
  encodePageToken,
  pageSizeOf,
  projectFilter,
  type GetStalenessReportRequest,
  type ListPinsRequest,
  type ListStaleSegmentsRequest,
  type PinSegmentsRequest,
  type UnpinSegmentsRequest,
  type StalenessService,
  type WatchStalenessRequest,
} from "@provenance/shared";
import { callerOf, type Caller } from "@provenance/shared/auth";
import type { AppDeps } from "../app/deps.js";
import { listStaleSegments } from "../app/list-stale-segments.js";
import { listPins, pinSegments, unpinSegments } from "../app/pins.js";
import { stalenessReport } from "../app/staleness-report.js";
import { watchStaleness } from "../app/watch-staleness.js";
import { assetKindOf, inputRoleOf } from "../domain/asset-kinds.js";
import { toPinMessage, toPinnedSegmentMessage } from "../domain/pins.js";
import type { StaleSegmentRecord } from "../domain/stale-segments.js";
import { toReportGroupMessage, withSegmentIdsDecoded } from "../domain/staleness-groups.js";
import { WatchLimitReached } from "../domain/watch-bounds.js";
import type { StalenessHub } from "../events/staleness-hub.js";
import { binaryResponse, jsonResponse } from "./watch-responses.js";
import { answersInJson, wantsJson } from "./wire-format.js";

/** A proto string field that is empty when not given. */
function given(s: string): string | undefined {
  return s === "" ? undefined : s;
}

function toStaleSegmentMessage(s: StaleSegmentRecord) {
  return create(StaleSegmentSchema, {
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
  });
}

/** The StalenessService implementation. */
export class StalenessHandlers implements ServiceImpl<typeof StalenessService> {
  constructor(
    private readonly deps: AppDeps,
    private readonly hub: StalenessHub,
  ) {}

  async getStalenessReport(req: GetStalenessReportRequest, ctx: HandlerContext) {
    return this.report(req, callerOf(ctx), answersInJson(ctx) ? "json" : "binary");
  }

  /**
   * GetStalenessReport for a decided caller (the RPC and its REST route): without a project, only its projects. For a
   * binary answer the groups carry their segment ids as the statement wrote them; a JSON one decodes them.
   */
  async report(req: GetStalenessReportRequest, caller: Caller, format: "binary" | "json") {
    const r = await stalenessReport(this.deps, given(req.projectId), caller.viewable);
    const groups = r.groups.map(toReportGroupMessage);
    return create(GetStalenessReportResponseSchema, {
      projectId: req.projectId,
      totalActiveSegments: r.totalActiveSegments,
      totalStaleSegments: r.totalStaleSegments,
      totalStaleScenes: r.totalStaleScenes,
      untrackedInputs: r.untrackedInputs,
      byAsset: format === "json" ? groups.map(withSegmentIdsDecoded) : groups,
      legacySegments: r.legacySegments,
      pinnedSegments: r.pinnedSegments,
      pinned: r.pinned.map(toPinnedSegmentMessage),
    });
  }

  async listStaleSegments(req: ListStaleSegmentsRequest, ctx: HandlerContext) {
    const page = await listStaleSegments(
      this.deps,
      {
        projectId: given(req.projectId),
        assetId: given(req.assetId),
        after: decodePageToken(req.pageToken),
        projects: projectFilter(callerOf(ctx).viewable),
      },
      pageSizeOf(req.pageSize),
    );
    return create(ListStaleSegmentsResponseSchema, {
      segments: page.segments.map(toStaleSegmentMessage),
      nextPageToken: page.nextAfterSegmentId === undefined ? "" : encodePageToken(page.nextAfterSegmentId),
    });
  }

  async *watchStaleness(req: WatchStalenessRequest, ctx: HandlerContext) {
    const responseOf = wantsJson(ctx.requestHeader.get("content-type")) ? jsonResponse : binaryResponse;
    try {
      for await (const change of watchStaleness(this.hub, given(req.projectId), callerOf(ctx).viewable, ctx)) yield responseOf(change);
    } catch (err) {
      if (err instanceof WatchLimitReached) throw new ConnectError(err.message, Code.ResourceExhausted);
      throw err;
    }
  }

  /** PinSegments: who pinned is the caller's token subject. */
  async pinSegments(req: PinSegmentsRequest, ctx: HandlerContext) {
    const r = await pinSegments(this.deps, {
      projectId: req.projectId,
      sceneId: given(req.sceneId),
      segmentIds: req.segmentIds,
      assetId: req.assetId,
      version: req.version,
      reason: req.reason,
      expiresAt: req.expiresAt ? timestampDate(req.expiresAt) : undefined,
      pinnedBy: callerOf(ctx).principal.subject,
    });
    return create(PinSegmentsResponseSchema, { pin: toPinMessage(r.pin, r.now), pinnedSegments: r.pinnedSegments, created: r.created });
  }

  async unpinSegments(req: UnpinSegmentsRequest, ctx: HandlerContext) {
    const r = await unpinSegments(this.deps, { projectId: req.projectId, pinId: req.pinId, by: callerOf(ctx).principal.subject });
    return create(UnpinSegmentsResponseSchema, { pin: toPinMessage(r.pin, r.now) });
  }

  async listPins(req: ListPinsRequest) {
    const page = await listPins(
      this.deps,
      { projectId: req.projectId, includeEnded: req.includeEnded, before: decodePageToken(req.pageToken) },
      pageSizeOf(req.pageSize),
    );
    return create(ListPinsResponseSchema, {
      pins: page.pins.map((p) => toPinMessage(p, page.now)),
      nextPageToken: page.nextBefore === undefined ? "" : encodePageToken(page.nextBefore),
    });
  }
}
