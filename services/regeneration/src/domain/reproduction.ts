/**
 * Reproductions: a job re-running one receipt with exactly its inputs, and the verdict once the new receipt completes.
 * Pure, no I/O.
 */
import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  GenerationInputsSchema,
  GpuTimeEstimateSchema,
  ReproductionSchema,
  ReproductionVerdict,
  failedPrecondition,
  notFound,
  ReceiptStatus,
  type GenerationInputs,
  type GpuTimeEstimate,
  type Receipt,
  type Reproduction,
} from "@provenance/shared";
import { jobStatusOf, type JobProgress, type JobStatusName } from "./job-progress.js";
import { inputsOfReceipt } from "./planned-job.js";
import { jobStatusToProto } from "./regeneration-records.js";

/** Longest id the API accepts (the `id()` rule). */
const MAX_ID = 200;

/** What a ReproduceSegment asked for: one of receipt or segment, in a project. */
export interface ReproductionTarget {
  projectId: string;
  /** "" when the segment was given. */
  receiptId: string;
  /** "" when the receipt was given. */
  segmentId: string;
}

/** The verdict of a reproduction as stored. */
export type VerdictName = "identical" | "inputs_differ" | "output_differs";

/** What the job knows of the new receipt: a job's progress, with the output hash the receipt completed with. */
export interface ReproductionProgress extends JobProgress {
  readonly actualOutputHash: string | null;
}

/** A reproduction as stored. */
export interface ReproductionRecord {
  jobId: string;
  seq: bigint;
  target: ReproductionTarget;
  projectId: string;
  sceneId: string;
  /** The segment of the reproduced receipt. */
  segmentId: string;
  receiptId: string;
  newSegmentId: string;
  characterName: string;
  sequenceIndex: number;
  inputs: GenerationInputs;
  expectedInputsHash: string;
  expectedOutputHash: string;
  status: JobStatusName;
  progress: ReproductionProgress;
  requestedBy: string;
  idempotencyKey: string;
  gpuEstimate: GpuTimeEstimate | undefined;
  createdAt: Date;
  updatedAt: Date;
}

/** A reproduction to create: everything but what storage assigns. */
export type NewReproduction = Omit<ReproductionRecord, "seq" | "status" | "progress" | "createdAt" | "updatedAt">;

/** `<segment id>-repro-<first 8 hex of the job id>`; the job id itself when that would be too long for an id. */
export function reproductionSegmentIdFor(segmentId: string, jobId: string): string {
  const suffix = `-repro-${jobId.replace(/-/g, "").slice(0, 8)}`;
  return segmentId.length + suffix.length <= MAX_ID ? `${segmentId}${suffix}` : jobId;
}

/** What was found for a target: the project of the receipt (or segment) and the receipt (the segment's current one). */
export interface FoundReceipt {
  projectId: string;
  receipt: Receipt | undefined;
}

/**
 * The receipt a ReproduceSegment re-runs, checked: the receipt (or segment) exists in the request's project — one of
 * another project is answered as unknown, naming no project — and is SUCCEEDED: a segment with no current receipt, or
 * a running, failed or legacy receipt, has no output to compare with (FAILED_PRECONDITION).
 */
export function reproducibleReceipt(target: ReproductionTarget, found: FoundReceipt | undefined): Receipt {
  const bySegment = target.segmentId !== "";
  if (!found || found.projectId !== target.projectId) {
    throw bySegment ? notFound("segment", target.segmentId) : notFound("receipt", target.receiptId);
  }
  const receipt = found.receipt;
  if (!receipt) throw failedPrecondition(`segment "${target.segmentId}" has no SUCCEEDED receipt to reproduce`);
  if (receipt.status !== ReceiptStatus.SUCCEEDED) {
    throw failedPrecondition(`receipt "${receipt.receiptId}" is ${ReceiptStatus[receipt.status]}: only a SUCCEEDED receipt can be reproduced`);
  }
  return receipt;
}

/** The reproduction of `receipt` under job `jobId`: exactly its inputs, its hashes as what to expect. */
export function newReproduction(
  target: ReproductionTarget,
  receipt: Receipt,
  jobId: string,
  requestedBy: string,
  idempotencyKey: string,
  gpuEstimate: GpuTimeEstimate | undefined,
): NewReproduction {
  return {
    jobId,
    target,
    projectId: receipt.projectId,
    sceneId: receipt.sceneId,
    segmentId: receipt.segmentId,
    receiptId: receipt.receiptId,
    newSegmentId: reproductionSegmentIdFor(receipt.segmentId, jobId),
    characterName: receipt.characterName,
    sequenceIndex: receipt.sequenceIndex,
    inputs: inputsOfReceipt(receipt),
    expectedInputsHash: receipt.inputsHash.toLowerCase(),
    expectedOutputHash: receipt.outputHash.toLowerCase(),
    requestedBy,
    idempotencyKey,
    gpuEstimate,
  };
}

/** Whether a retry's target is the one its key started. */
export function sameTarget(a: ReproductionTarget, b: ReproductionTarget): boolean {
  return a.projectId === b.projectId && a.receiptId === b.receiptId && a.segmentId === b.segmentId;
}

/** The reproduction's status, derived as for regeneration jobs. */
export function reproductionStatusOf(expectedInputsHash: string, progress: JobProgress): JobStatusName {
  return jobStatusOf(expectedInputsHash, progress);
}

/**
 * The verdict, once the new receipt completed SUCCEEDED: INPUTS_DIFFER when its inputs hash is not the receipt's,
 * else IDENTICAL or OUTPUT_DIFFERS by output hash. None (undefined) before that, when it failed, or when either side
 * has no output hash to compare.
 */
export function verdictOf(r: Pick<ReproductionRecord, "expectedInputsHash" | "expectedOutputHash" | "progress">): VerdictName | undefined {
  const p = r.progress;
  if (p.receiptStatus !== "SUCCEEDED") return undefined;
  if (p.actualInputsHash !== null && p.actualInputsHash !== r.expectedInputsHash.toLowerCase()) return "inputs_differ";
  if (!p.actualOutputHash || !r.expectedOutputHash) return undefined;
  return p.actualOutputHash.toLowerCase() === r.expectedOutputHash.toLowerCase() ? "identical" : "output_differs";
}

/** The verdict, or why there is none yet, in one line. */
export function verdictSummary(r: ReproductionRecord): string {
  const p = r.progress;
  const verdict = verdictOf(r);
  switch (verdict) {
    case "identical":
      return `identical: receipt ${p.newReceiptId} has the same inputs hash and output hash ${short(r.expectedOutputHash)} as receipt ${r.receiptId}`;
    case "inputs_differ":
      return `inputs differ: receipt ${p.newReceiptId} has inputs hash ${short(p.actualInputsHash ?? "")}, expected ${short(r.expectedInputsHash)}: the pipeline did not use the pinned inputs`;
    case "output_differs":
      return `output differs: same inputs hash, output hash ${short(p.actualOutputHash ?? "")} instead of ${short(r.expectedOutputHash)}: the pipeline is not deterministic`;
    default:
      break;
  }
  if (p.newReceiptId === null) return "waiting for the pipeline to record the reproduction";
  if (p.receiptStatus === "FAILED") return `no verdict: receipt ${p.newReceiptId} completed FAILED, nothing to compare`;
  if (p.receiptStatus === "SUCCEEDED") {
    return r.expectedOutputHash ? `no verdict: receipt ${p.newReceiptId} recorded no output hash` : `no verdict: receipt ${r.receiptId} recorded no output hash`;
  }
  return `running: receipt ${p.newReceiptId} has not completed yet`;
}

function short(hash: string): string {
  return hash.slice(0, 12);
}

const VERDICTS: Record<VerdictName, ReproductionVerdict> = {
  identical: ReproductionVerdict.IDENTICAL,
  inputs_differ: ReproductionVerdict.INPUTS_DIFFER,
  output_differs: ReproductionVerdict.OUTPUT_DIFFERS,
};

/** Inputs as stored (proto JSON, lossless for uint64 seeds and Struct params). */
export function inputsToJson(inputs: GenerationInputs): JsonValue {
  return toJson(GenerationInputsSchema, inputs);
}

/** Stored inputs read back. */
export function inputsFromJson(json: JsonValue): GenerationInputs {
  return fromJson(GenerationInputsSchema, json);
}

/** An estimate as stored. */
export function estimateToJson(estimate: GpuTimeEstimate | undefined): JsonValue | null {
  return estimate === undefined ? null : toJson(GpuTimeEstimateSchema, estimate);
}

/** A stored estimate read back. */
export function estimateFromJson(json: JsonValue | null): GpuTimeEstimate | undefined {
  return json === null ? undefined : fromJson(GpuTimeEstimateSchema, json);
}

/** The API message of a reproduction. */
export function toReproductionMessage(r: ReproductionRecord): Reproduction {
  const verdict = verdictOf(r);
  const p = r.progress;
  return create(ReproductionSchema, {
    jobId: r.jobId,
    projectId: r.projectId,
    sceneId: r.sceneId,
    segmentId: r.segmentId,
    receiptId: r.receiptId,
    newSegmentId: r.newSegmentId,
    inputs: r.inputs,
    expectedInputsHash: r.expectedInputsHash,
    expectedOutputHash: r.expectedOutputHash,
    status: jobStatusToProto(r.status),
    verdict: verdict === undefined ? ReproductionVerdict.UNSPECIFIED : VERDICTS[verdict],
    newReceiptId: p.newReceiptId ?? "",
    actualInputsHash: p.actualInputsHash ?? "",
    actualOutputHash: p.actualOutputHash ?? "",
    summary: verdictSummary(r),
    requestedBy: r.requestedBy,
    idempotencyKey: r.idempotencyKey,
    gpuEstimate: r.gpuEstimate,
    createdAt: timestampFromDate(r.createdAt),
    updatedAt: timestampFromDate(r.updatedAt),
    completedAt: p.completedAt ? timestampFromDate(p.completedAt) : undefined,
  });
}
