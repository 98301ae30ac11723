/** Batches and jobs as the service holds them, and their mapping to API messages. */
import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  GetRegenerationBatchResponseSchema,
  JobStatus,
  PlannedJobSchema,
  RegenerationBatchSchema,
  RegenerationJobSchema,
  SubmitRegenerationResponseSchema,
  type GetRegenerationBatchResponse,
  type PlannedJob,
  type RegenerationBatch,
  type RegenerationJob,
  type SubmitRegenerationResponse,
} from "@provenance/shared";
import { estimateTotals } from "./gpu-estimate.js";
import { JOB_STATUSES, type JobProgress, type JobStatusName } from "./job-progress.js";
import type { Selection } from "./selection.js";

/** A stored batch with its job counts per status. */
export interface BatchRecord {
  batchId: string;
  projectId: string;
  idempotencyKey: string;
  requestedBy: string;
  selection: Selection;
  jobCount: number;
  counts: Record<JobStatusName, number>;
  createdAt: Date;
}

/** A stored job. */
export interface JobRecord {
  jobId: string;
  seq: bigint;
  batchId: string;
  status: JobStatusName;
  plan: PlannedJob;
  newSegmentId: string;
  progress: JobProgress;
  error: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A batch with every job of it, in submission order. */
export interface BatchView {
  batch: BatchRecord;
  jobs: JobRecord[];
}

/** What SubmitRegeneration answers: the batch, and whether this call created it (false for a replay of its key). */
export interface SubmittedBatch extends BatchView {
  created: boolean;
}

/** One job to create: the plan with the ids assigned to it. */
export interface NewJob {
  jobId: string;
  newSegmentId: string;
  plan: PlannedJob;
}

/** Zero of every status. */
export function emptyCounts(): Record<JobStatusName, number> {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatusName, number>;
}

const TO_PROTO: Record<JobStatusName, JobStatus> = {
  submitted: JobStatus.SUBMITTED,
  running: JobStatus.RUNNING,
  succeeded: JobStatus.SUCCEEDED,
  failed: JobStatus.FAILED,
  inputs_mismatch: JobStatus.INPUTS_MISMATCH,
};

/** The API enum of a stored status. */
export function jobStatusToProto(status: JobStatusName): JobStatus {
  return TO_PROTO[status];
}

/** The stored status of an API enum value; undefined for UNSPECIFIED. */
export function jobStatusFromProto(status: JobStatus): JobStatusName | undefined {
  return JOB_STATUSES.find((s) => TO_PROTO[s] === status);
}

/** A plan as stored (proto JSON, lossless for uint64 seeds and Struct params). */
export function planToJson(plan: PlannedJob): JsonValue {
  return toJson(PlannedJobSchema, plan);
}

/** A stored plan read back. */
export function planFromJson(json: JsonValue): PlannedJob {
  return fromJson(PlannedJobSchema, json);
}

/** The API message of a batch. */
export function toBatchMessage(b: BatchRecord): RegenerationBatch {
  return create(RegenerationBatchSchema, {
    batchId: b.batchId,
    projectId: b.projectId,
    requestedBy: b.requestedBy,
    idempotencyKey: b.idempotencyKey,
    jobCount: b.jobCount,
    submitted: b.counts.submitted,
    running: b.counts.running,
    succeeded: b.counts.succeeded,
    failed: b.counts.failed,
    inputsMismatch: b.counts.inputs_mismatch,
    createdAt: timestampFromDate(b.createdAt),
  });
}

/** The API message of a job. */
export function toJobMessage(j: JobRecord): RegenerationJob {
  return create(RegenerationJobSchema, {
    jobId: j.jobId,
    batchId: j.batchId,
    status: jobStatusToProto(j.status),
    plan: j.plan,
    newSegmentId: j.newSegmentId,
    newReceiptId: j.progress.newReceiptId ?? "",
    actualInputsHash: j.progress.actualInputsHash ?? "",
    error: j.error,
    createdAt: timestampFromDate(j.createdAt),
    updatedAt: timestampFromDate(j.updatedAt),
  });
}

/** The GetRegenerationBatch answer of a batch. */
export function toBatchResponse(view: BatchView): GetRegenerationBatchResponse {
  return create(GetRegenerationBatchResponseSchema, { batch: toBatchMessage(view.batch), jobs: view.jobs.map(toJobMessage) });
}

/** The SubmitRegeneration answer (also of the REST route). */
export function toSubmitResponse(submitted: SubmittedBatch): SubmitRegenerationResponse {
  return create(SubmitRegenerationResponseSchema, {
    batch: toBatchMessage(submitted.batch),
    jobs: submitted.jobs.map(toJobMessage),
    created: submitted.created,
    // The estimates as planned (stored with each job's plan); a job planned before estimates has none.
    ...estimateTotals(submitted.jobs.map((j) => j.plan.gpuEstimate)),
  });
}
