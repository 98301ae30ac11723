/**
 * ReceiptService: maps each decided and validated request (access by the auth interceptor, rules in
 * rpc/receipt-rules.ts) to its use case in app/, with the caller — who is recorded, what lists may show — and the
 * answer back to a message. Nothing else: no rule, no SQL, no outbound call.
 */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { DataSource } from "typeorm";
import { callerOf, type Caller } from "@provenance/shared/auth";
import type { NoteVerifier } from "@provenance/shared/receipt-log";
import {
  BatchGetCurrentReceiptsResponseSchema,
  CompareReceiptsResponseSchema,
  CompleteReceiptResponseSchema,
  CompleteReceiptsResponseSchema,
  CreateReceiptResponseSchema,
  CreateReceiptsResponseSchema,
  FindReceiptsByInputsHashResponseSchema,
  GetAssetUsageResponseSchema,
  GetCoverageResponseSchema,
  GetCheckpointResponseSchema,
  GetConsistencyProofResponseSchema,
  GetGenerationDurationsResponseSchema,
  GetReceiptProofResponseSchema,
  GetReceiptResponseSchema,
  GetSegmentProvenanceResponseSchema,
  ImportLegacySegmentsResponseSchema,
  ListProjectsResponseSchema,
  ListSegmentsResponseSchema,
  requestIdKey,
  withFieldPrefix,
  type BatchGetCurrentReceiptsRequest,
  type CompareReceiptsRequest,
  type CompleteReceiptRequest,
  type CompleteReceiptsRequest,
  type CreateReceiptRequest,
  type CreateReceiptsRequest,
  type FindReceiptsByInputsHashRequest,
  type GetAssetUsageRequest,
  type GetCoverageRequest,
  type GetConsistencyProofRequest,
  type GetGenerationDurationsRequest,
  type GetReceiptProofRequest,
  type GetReceiptRequest,
  type GetSegmentProvenanceRequest,
  type ImportLegacySegmentsRequest,
  type ListProjectsRequest,
  type ListSegmentsRequest,
  type ReceiptService,
} from "@provenance/shared";
import { getAssetUsage } from "../app/asset-usage.js";
import { compareReceipts } from "../app/compare-receipts.js";
import { completeReceipt, completeReceipts } from "../app/complete-receipts.js";
import { batchGetCurrentReceipts } from "../app/current-receipts.js";
import { getCoverage, type CoverageDeps } from "../app/get-coverage.js";
import { draftLegacySegments, importLegacySegments } from "../app/import-legacy-segments.js";
import { getGenerationDurations } from "../app/generation-durations.js";
import { listProjects } from "../app/list-projects.js";
import { listSegments } from "../app/list-segments.js";
import { findReceiptsByInputsHash, getReceipt, getSegmentProvenance } from "../app/read-provenance.js";
import { getCheckpoint, getConsistencyProof, getReceiptProof } from "../app/receipt-log-proofs.js";
import { recordReceipt, recordReceipts } from "../app/record-receipts.js";
import type { AssetVersionLookup } from "../clients/asset-versions.js";
import { toAssetUsageMessage } from "../domain/asset-usage.js";
import { toCoverageMessage } from "../domain/coverage.js";
import { batchEntry } from "../domain/batch-entries.js";
import { completionFromRequest } from "../domain/completion.js";
import { toProjectSummaryMessage, toSegmentListingMessage } from "../domain/listings.js";
import { durationKeyOf, toGenerationDurationsMessage } from "../domain/generation-durations.js";
import { draftReceipt } from "../domain/new-receipt.js";
import { toReceiptMessage, toSegmentMessage } from "../domain/receipt-record.js";

/** What the handlers' use cases need. */
export interface ReceiptHandlerDeps {
  dataSource: DataSource;
  assetVersions: AssetVersionLookup;
  /** GetCoverage's running limit and metric. */
  coverage: Omit<CoverageDeps, "dataSource">;
  /** The receipt log's published key (GetCheckpoint's verifier_key). */
  receiptLogVerifier: NoteVerifier;
}

/** Who records a receipt: the decided caller's `sub`, with the request's id for the events. */
function recorder(ctx: HandlerContext) {
  return { recordedBy: callerOf(ctx).principal.subject, requestId: ctx.values.get(requestIdKey) };
}

/** The ReceiptService implementation. */
export class ReceiptHandlers implements ServiceImpl<typeof ReceiptService> {
  private readonly ds: DataSource;
  private readonly assetVersions: AssetVersionLookup;
  private readonly coverageDeps: CoverageDeps;
  private readonly receiptLogVerifier: NoteVerifier;

  constructor(deps: ReceiptHandlerDeps) {
    this.ds = deps.dataSource;
    this.assetVersions = deps.assetVersions;
    this.coverageDeps = { ...deps.coverage, dataSource: deps.dataSource };
    this.receiptLogVerifier = deps.receiptLogVerifier;
  }

  async createReceipt(req: CreateReceiptRequest, ctx: HandlerContext) {
    const { receipt, created } = await recordReceipt(this.ds, draftReceipt(req), recorder(ctx));
    return create(CreateReceiptResponseSchema, { receipt: toReceiptMessage(receipt), created });
  }

  async createReceipts(req: CreateReceiptsRequest, ctx: HandlerContext) {
    const drafts = req.receipts.map((r, i) => withFieldPrefix(batchEntry(i), () => draftReceipt(r)));
    const results = await recordReceipts(this.ds, drafts, recorder(ctx));
    return create(CreateReceiptsResponseSchema, {
      results: results.map(({ receipt, created }) => ({ receipt: toReceiptMessage(receipt), created })),
    });
  }

  async completeReceipt(req: CompleteReceiptRequest, ctx: HandlerContext) {
    const completedBy = callerOf(ctx).principal.subject;
    const receipt = await completeReceipt(this.ds, { ...completionFromRequest(req), completedBy }, ctx.values.get(requestIdKey));
    return create(CompleteReceiptResponseSchema, { receipt: toReceiptMessage(receipt) });
  }

  async completeReceipts(req: CompleteReceiptsRequest, ctx: HandlerContext) {
    const completedBy = callerOf(ctx).principal.subject;
    const completions = req.receipts.map((r) => ({ ...completionFromRequest(r), completedBy }));
    const receipts = await completeReceipts(this.ds, completions, ctx.values.get(requestIdKey));
    return create(CompleteReceiptsResponseSchema, { receipts: receipts.map(toReceiptMessage) });
  }

  async getReceipt(req: GetReceiptRequest) {
    const receipt = await getReceipt(this.ds, req.receiptId);
    return create(GetReceiptResponseSchema, { receipt: toReceiptMessage(receipt) });
  }

  async getSegmentProvenance(req: GetSegmentProvenanceRequest, ctx: HandlerContext) {
    return this.segmentProvenance(req, callerOf(ctx));
  }

  /** GetSegmentProvenance for a decided caller (the RPC and its REST route); the decision already hid other projects' segments. */
  async segmentProvenance(req: GetSegmentProvenanceRequest, _caller: Caller) {
    const { segment, current, history } = await getSegmentProvenance(this.ds, req.segmentId);
    return create(GetSegmentProvenanceResponseSchema, {
      segment: toSegmentMessage(segment),
      currentReceipt: current ? toReceiptMessage(current) : undefined,
      history: history.map(toReceiptMessage),
    });
  }

  async batchGetCurrentReceipts(req: BatchGetCurrentReceiptsRequest, ctx: HandlerContext) {
    const found = await batchGetCurrentReceipts(this.ds, req.segmentIds, callerOf(ctx).viewable);
    return create(BatchGetCurrentReceiptsResponseSchema, {
      segments: found.map(({ segment, current }) => ({
        segment: toSegmentMessage(segment),
        currentReceipt: current ? toReceiptMessage(current) : undefined,
      })),
    });
  }

  async getAssetUsage(req: GetAssetUsageRequest, ctx: HandlerContext) {
    return this.assetUsage(req, callerOf(ctx));
  }

  /** GetAssetUsage for a decided caller (the RPC and its REST route): only the projects it may view. */
  async assetUsage(req: GetAssetUsageRequest, caller: Caller) {
    const { usages, nextPageToken } = await getAssetUsage(this.ds, this.assetVersions, req, caller);
    return create(GetAssetUsageResponseSchema, { usages: usages.map(toAssetUsageMessage), nextPageToken });
  }

  async findReceiptsByInputsHash(req: FindReceiptsByInputsHashRequest, ctx: HandlerContext) {
    const { receipts, nextPageToken } = await findReceiptsByInputsHash(this.ds, req, callerOf(ctx).viewable);
    return create(FindReceiptsByInputsHashResponseSchema, { receipts: receipts.map(toReceiptMessage), nextPageToken });
  }

  async listProjects(req: ListProjectsRequest, ctx: HandlerContext) {
    const { projects, nextPageToken } = await listProjects(this.ds, req, callerOf(ctx).viewable);
    return create(ListProjectsResponseSchema, { projects: projects.map(toProjectSummaryMessage), nextPageToken });
  }

  async listSegments(req: ListSegmentsRequest) {
    const { segments, nextPageToken } = await listSegments(this.ds, req);
    return create(ListSegmentsResponseSchema, { segments: segments.map(toSegmentListingMessage), nextPageToken });
  }

  // compare / coverage / legacy
  async compareReceipts(req: CompareReceiptsRequest) {
    const { left, right, fields, changedFields } = await compareReceipts(this.ds, req.leftReceiptId, req.rightReceiptId);
    return create(CompareReceiptsResponseSchema, { left, right, fields, changedFields });
  }
  async importLegacySegments(req: ImportLegacySegmentsRequest, ctx: HandlerContext) {
    const results = await importLegacySegments(this.ds, draftLegacySegments(req.segments), recorder(ctx));
    return create(ImportLegacySegmentsResponseSchema, {
      results: results.map(({ receipt, created }) => ({ receipt: toReceiptMessage(receipt), created })),
    });
  }
  async getCoverage(req: GetCoverageRequest, ctx: HandlerContext) {
    return this.coverage(req, callerOf(ctx));
  }

  /** GetCoverage for a decided caller (the RPC and its REST routes): one project (decided viewable), or its projects. */
  async coverage(req: GetCoverageRequest, caller: Caller) {
    const { total, projects } = await getCoverage(this.coverageDeps, req.projectId === "" ? undefined : req.projectId, caller.viewable);
    return create(GetCoverageResponseSchema, {
      total: toCoverageMessage(total),
      projects: projects.map(toCoverageMessage),
      runningLimitSeconds: this.coverageDeps.runningLimitSeconds,
    });
  }
  // GPU-time estimates
  async getGenerationDurations(req: GetGenerationDurationsRequest, ctx: HandlerContext) {
    const keys = req.keys.map(durationKeyOf);
    const stats = await getGenerationDurations(this.ds, keys, callerOf(ctx).viewable);
    return create(GetGenerationDurationsResponseSchema, { durations: keys.map((k, i) => toGenerationDurationsMessage(k, stats[i])) });
  }
  // receipt log
  async getCheckpoint() {
    return create(GetCheckpointResponseSchema, await getCheckpoint(this.ds, this.receiptLogVerifier));
  }

  async getReceiptProof(req: GetReceiptProofRequest) {
    const { checkpoint, entries } = await getReceiptProof(this.ds, req.receiptId, req.treeSize);
    return create(GetReceiptProofResponseSchema, { checkpoint, entries: entries.map((e) => ({ ...e, leafIndex: BigInt(e.leafIndex) })) });
  }

  async getConsistencyProof(req: GetConsistencyProofRequest) {
    return create(GetConsistencyProofResponseSchema, { path: await getConsistencyProof(this.ds, req.firstSize, req.secondSize) });
  }
}
