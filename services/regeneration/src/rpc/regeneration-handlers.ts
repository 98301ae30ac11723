/**
 * RegenerationService: maps each RPC's messages to its use case in app/ and back. Input rules are in
 * regeneration-rules.ts (enforced by the validation interceptor before a handler runs).
 */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  ListRegenerationJobsResponseSchema,
  PlanRegenerationResponseSchema,
  requestIdKey,
  type GetRegenerationBatchRequest,
  type ListRegenerationJobsRequest,
  type PlanRegenerationRequest,
  type RegenerationService,
  type SubmitRegenerationRequest,
  type SubmitRegenerationResponse,
} from "@provenance/shared";
import type { PlanRegeneration } from "../app/plan-regeneration.js";
import type { ReadBatches } from "../app/read-batches.js";
import type { SubmitCommand, SubmitRegeneration } from "../app/submit-regeneration.js";
import { jobStatusFromProto, toBatchResponse, toJobMessage, toSubmitResponse } from "../domain/regeneration-records.js";
import { selectionOf } from "../domain/selection.js";

/** The use cases RegenerationService serves. */
export interface RegenerationUseCases {
  plan: PlanRegeneration;
  submit: SubmitRegeneration;
  read: ReadBatches;
}

/** The SubmitRegeneration command of a request (also of the REST route). */
export function submitCommandOf(req: SubmitRegenerationRequest, requestId: string | undefined): SubmitCommand {
  return { selection: selectionOf(req), idempotencyKey: req.idempotencyKey, requestedBy: req.requestedBy, requestId };
}

/** The handlers of RegenerationService. */
export class RegenerationHandlers implements ServiceImpl<typeof RegenerationService> {
  constructor(private readonly useCases: RegenerationUseCases) {}

  async planRegeneration(req: PlanRegenerationRequest) {
    const { jobs } = await this.useCases.plan.plan(selectionOf(req));
    return create(PlanRegenerationResponseSchema, { jobs });
  }

  async submitRegeneration(req: SubmitRegenerationRequest, ctx: HandlerContext): Promise<SubmitRegenerationResponse> {
    return toSubmitResponse(await this.useCases.submit.submit(submitCommandOf(req, ctx.values.get(requestIdKey))));
  }

  async getRegenerationBatch(req: GetRegenerationBatchRequest) {
    return toBatchResponse(await this.useCases.read.batch(req.batchId));
  }

  async listRegenerationJobs(req: ListRegenerationJobsRequest) {
    const page = await this.useCases.read.listJobs(
      { batchId: req.batchId || undefined, projectId: req.projectId || undefined, status: jobStatusFromProto(req.status) },
      req.pageSize,
      req.pageToken,
    );
    return create(ListRegenerationJobsResponseSchema, { jobs: page.jobs.map(toJobMessage), nextPageToken: page.nextPageToken });
  }
}
