/** RegenerationService: plans, idempotent submissions, batches and jobs. Input rules are in regeneration-rules.ts. */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  GetRegenerationBatchResponseSchema,
  ListRegenerationJobsResponseSchema,
  PlanRegenerationResponseSchema,
  SubmitRegenerationResponseSchema,
  alreadyExists,
  decodeSeqToken,
  encodePageToken,
  failedPrecondition,
  notFound,
  pageSizeOf,
  requestIdKey,
  type GetRegenerationBatchRequest,
  type ListRegenerationJobsRequest,
  type PlanRegenerationRequest,
  type RegenerationService,
  type SubmitRegenerationRequest,
  type SubmitRegenerationResponse,
} from "@provenance/shared";
import { newSegmentIdFor } from "../domain/new-segment-id.js";
import { jobStatusFromProto, toBatchMessage, toJobMessage, type BatchRecord } from "../domain/regeneration-records.js";
import { sameSelection, selectionOf } from "../domain/selection.js";
import type { RegenerationRepository } from "../persistence/regeneration-repository.js";
import type { RegenerationPlanner } from "./regeneration-planner.js";

/** The handlers of RegenerationService. */
export class RegenerationHandlers implements ServiceImpl<typeof RegenerationService> {
  constructor(
    private readonly repo: RegenerationRepository,
    private readonly planner: RegenerationPlanner,
  ) {}

  async planRegeneration(req: PlanRegenerationRequest) {
    const jobs = await this.planner.plan(selectionOf(req));
    return create(PlanRegenerationResponseSchema, { jobs });
  }

  /**
   * Persists a batch and publishes one job per stale selected segment. A known key returns its batch
   * (created=false) without asking any dependency; the same key with another selection is ALREADY_EXISTS.
   * A selection with nothing stale is FAILED_PRECONDITION and records nothing, so the key stays free.
   */
  async submitRegeneration(req: SubmitRegenerationRequest, ctx?: HandlerContext): Promise<SubmitRegenerationResponse> {
    const selection = selectionOf(req);
    const existing = await this.repo.batchByKey(req.idempotencyKey);
    if (existing) return this.replay(existing, req);

    const plan = await this.planner.plan(selection);
    if (plan.length === 0) {
      throw failedPrecondition(
        `nothing to regenerate: no stale active segment of project "${selection.projectId}" matches the selection` +
          " (or each already has a job submitted or running)",
      );
    }
    const batchId = randomUUID();
    const created = await this.repo.createBatch({
      batchId,
      selection,
      idempotencyKey: req.idempotencyKey,
      requestedBy: req.requestedBy,
      jobs: plan.map((p) => {
        const jobId = randomUUID();
        return { jobId, newSegmentId: newSegmentIdFor(p.oldSegmentId, jobId), plan: p };
      }),
      requestId: ctx?.values.get(requestIdKey),
    });
    if (!created) {
      // A concurrent submission with the same key won the race.
      const winner = await this.repo.batchByKey(req.idempotencyKey);
      if (!winner) throw new Error(`batch of idempotency key ${req.idempotencyKey} vanished`);
      return this.replay(winner, req);
    }
    return this.response(batchId, true);
  }

  async getRegenerationBatch(req: GetRegenerationBatchRequest) {
    const batch = await this.repo.batch(req.batchId);
    if (!batch) throw notFound("regeneration batch", req.batchId);
    const jobs = await this.repo.jobsOfBatch(req.batchId);
    return create(GetRegenerationBatchResponseSchema, { batch: toBatchMessage(batch), jobs: jobs.map(toJobMessage) });
  }

  async listRegenerationJobs(req: ListRegenerationJobsRequest) {
    const limit = pageSizeOf(req.pageSize);
    const jobs = await this.repo.listJobs(
      { batchId: req.batchId || undefined, projectId: req.projectId || undefined, status: jobStatusFromProto(req.status) },
      limit,
      decodeSeqToken(req.pageToken),
    );
    const last = jobs.at(-1);
    return create(ListRegenerationJobsResponseSchema, {
      jobs: jobs.map(toJobMessage),
      nextPageToken: jobs.length === limit && last ? encodePageToken(last.seq.toString()) : "",
    });
  }

  private async replay(existing: BatchRecord, req: SubmitRegenerationRequest): Promise<SubmitRegenerationResponse> {
    if (!sameSelection(existing.selection, selectionOf(req))) {
      throw alreadyExists(
        `idempotency_key "${req.idempotencyKey}" already submitted batch ${existing.batchId} with a different selection; use a new key`,
      );
    }
    return this.response(existing.batchId, false);
  }

  private async response(batchId: string, created: boolean): Promise<SubmitRegenerationResponse> {
    const { batch, jobs } = await this.getRegenerationBatch({ batchId } as GetRegenerationBatchRequest);
    return create(SubmitRegenerationResponseSchema, { batch, jobs, created });
  }
}
