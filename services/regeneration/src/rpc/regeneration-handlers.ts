/**
 * RegenerationService: maps each RPC's messages to its use case in app/ and back. Input rules are in
 * regeneration-rules.ts (enforced by the validation interceptor before a handler runs).
 */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  GetReproductionResponseSchema,
  ListRegenerationJobsResponseSchema,
  ListReproductionsResponseSchema,
  PlanRegenerationResponseSchema,
  ReproduceSegmentResponseSchema,
  projectFilter,
  requestIdKey,
  type GetRegenerationBatchRequest,
  type GetReproductionRequest,
  type ListRegenerationJobsRequest,
  type ListReproductionsRequest,
  type PlanRegenerationRequest,
  type RegenerationService,
  type ReproduceSegmentRequest,
  type SubmitRegenerationRequest,
  type SubmitRegenerationResponse,
} from "@provenance/shared";
import { callerOf, type Caller } from "@provenance/shared/auth";
import type { PlanRegeneration } from "../app/plan-regeneration.js";
import type { ReadBatches } from "../app/read-batches.js";
import type { Reproductions } from "../app/reproduce-segment.js";
import type { SubmitCommand, SubmitRegeneration } from "../app/submit-regeneration.js";
import { jobStatusFromProto, toBatchResponse, toJobMessage, toSubmitResponse } from "../domain/regeneration-records.js";
import { estimateTotals } from "../domain/gpu-estimate.js";
import { toReproductionMessage } from "../domain/reproduction.js";
import { selectionOf } from "../domain/selection.js";

/** The use cases RegenerationService serves. */
export interface RegenerationUseCases {
  plan: PlanRegeneration;
  submit: SubmitRegeneration;
  read: ReadBatches;
  reproductions: Reproductions;
}

/**
 * The SubmitRegeneration command of a request (also of the REST route) made by `caller`: it is who requested the batch
 * (the request's requested_by, kept in the proto for compatibility, is ignored) and planning reads as it.
 */
export function submitCommandOf(req: SubmitRegenerationRequest, caller: Caller, requestId: string | undefined): SubmitCommand {
  return { selection: selectionOf(req), idempotencyKey: req.idempotencyKey, requestedBy: caller.principal.subject, caller, requestId };
}

/** The handlers of RegenerationService. */
export class RegenerationHandlers implements ServiceImpl<typeof RegenerationService> {
  constructor(private readonly useCases: RegenerationUseCases) {}

  async planRegeneration(req: PlanRegenerationRequest, ctx: HandlerContext) {
    const { jobs } = await this.useCases.plan.plan(selectionOf(req), callerOf(ctx));
    return create(PlanRegenerationResponseSchema, { jobs, ...estimateTotals(jobs.map((j) => j.gpuEstimate)) });
  }

  async submitRegeneration(req: SubmitRegenerationRequest, ctx: HandlerContext): Promise<SubmitRegenerationResponse> {
    return toSubmitResponse(await this.useCases.submit.submit(submitCommandOf(req, callerOf(ctx), ctx.values.get(requestIdKey))));
  }

  async getRegenerationBatch(req: GetRegenerationBatchRequest) {
    return toBatchResponse(await this.useCases.read.batch(req.batchId));
  }

  async listRegenerationJobs(req: ListRegenerationJobsRequest, ctx: HandlerContext) {
    const page = await this.useCases.read.listJobs(
      {
        batchId: req.batchId || undefined,
        projectId: req.projectId || undefined,
        status: jobStatusFromProto(req.status),
        // A project filter was decided on; without one (a batch's jobs), only the caller's projects.
        projects: req.projectId ? undefined : projectFilter(callerOf(ctx).viewable),
      },
      req.pageSize,
      req.pageToken,
    );
    return create(ListRegenerationJobsResponseSchema, { jobs: page.jobs.map(toJobMessage), nextPageToken: page.nextPageToken });
  }

  async reproduceSegment(req: ReproduceSegmentRequest, ctx: HandlerContext) {
    const { reproduction, created } = await this.useCases.reproductions.reproduce({
      target: { projectId: req.projectId, receiptId: req.receiptId.toLowerCase(), segmentId: req.segmentId },
      idempotencyKey: req.idempotencyKey,
      caller: callerOf(ctx),
      requestId: ctx.values.get(requestIdKey),
    });
    return create(ReproduceSegmentResponseSchema, { reproduction: toReproductionMessage(reproduction), created });
  }

  async getReproduction(req: GetReproductionRequest) {
    return create(GetReproductionResponseSchema, { reproduction: toReproductionMessage(await this.useCases.reproductions.get(req.jobId)) });
  }

  async listReproductions(req: ListReproductionsRequest) {
    const page = await this.useCases.reproductions.list(
      { projectId: req.projectId, receiptId: req.receiptId.toLowerCase() || undefined, segmentId: req.segmentId || undefined },
      req.pageSize,
      req.pageToken,
    );
    return create(ListReproductionsResponseSchema, { reproductions: page.reproductions.map(toReproductionMessage), nextPageToken: page.nextPageToken });
  }
}
