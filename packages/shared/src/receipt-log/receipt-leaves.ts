/**
 * The receipt log's leaves, spec `provenance/receipt-log/v1` (docs/spec/receipt-log.md): the `receipt.created` and
 * `receipt.completed` documents of a receipt as served, serialised with RFC 8785 (JCS). Pure: a verifier holding only
 * the served receipt rebuilds the same bytes.
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "../errors/domain-error.js";
import { ReceiptStatus, type AssetRef, type Receipt } from "../gen/provenance/v1/common_pb.js";
import { canonicalJson } from "../hash/canonical-json.js";
import { hashLeaf } from "./tree-hash.js";

/** The spec value of version 1 of the leaves. A change to a leaf is a new spec, never a change to this one. */
export const RECEIPT_LOG_SPEC_V1 = "provenance/receipt-log/v1";

/** The two events a receipt logs. */
export type ReceiptLeafEvent = "receipt.created" | "receipt.completed";

/** The role names of leaf inputs, in the order the inputs are sorted. */
export const LEAF_INPUT_ROLES = ["source_image", "variant_image", "workflow", "model", "lora"] as const;

/** One input of a `receipt.created` leaf. */
export interface LeafInput {
  role: (typeof LEAF_INPUT_ROLES)[number];
  /** Counts from 0 within the role. */
  position: number;
  asset_id: string;
  content_hash: string;
  /** The version label the receipt carried, or null when none was given. */
  version: number | null;
  /** The LoRA weight; null for every other role. */
  weight: number | null;
}

/** The `receipt.created` leaf document, keys exactly as the spec names them. */
export interface ReceiptCreatedDocument {
  spec: typeof RECEIPT_LOG_SPEC_V1;
  event: "receipt.created";
  receipt_id: string;
  segment_id: string;
  scene_id: string;
  project_id: string;
  character_name: string;
  sequence_index: number;
  inputs_hash: string;
  inputs: LeafInput[];
  workflow_version: string;
  generation_started_at: string;
  regeneration_job_id: string | null;
  supersedes_segment_id: string | null;
  idempotency_key: string;
  recorded_by: string;
  created_at: string;
}

/** The `receipt.completed` leaf document, keys exactly as the spec names them. */
export interface ReceiptCompletedDocument {
  spec: typeof RECEIPT_LOG_SPEC_V1;
  event: "receipt.completed";
  receipt_id: string;
  status: "SUCCEEDED" | "FAILED";
  generation_completed_at: string;
  generation_duration_ms: number;
  output_hash: string | null;
  recorded_by: string;
}

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range of a protobuf Timestamp and of a four-digit year.
const MIN_SECONDS = -62135596800;
const MAX_SECONDS = 253402300799;

/**
 * A leaf time: RFC 3339 in UTC with exactly three fractional digits, truncated (never rounded) to the millisecond,
 * and `Z`. A missing or out-of-range Timestamp is INVALID_ARGUMENT naming `field`.
 */
export function formatLeafTime(field: string, time: Timestamp | undefined): string {
  if (time === undefined) throw invalidArgument(field, "is required");
  const seconds = Number(time.seconds);
  if (!Number.isSafeInteger(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    throw invalidArgument(field, "must lie between years 0001 and 9999");
  }
  if (!Number.isInteger(time.nanos) || time.nanos < 0 || time.nanos > 999_999_999) {
    throw invalidArgument(field, "must have nanos from 0 to 999999999");
  }
  return new Date(seconds * 1000 + Math.floor(time.nanos / 1_000_000)).toISOString();
}

function optional(value: string): string | null {
  return value === "" ? null : value;
}

function requiredString(field: string, value: string): string {
  if (typeof value !== "string" || value === "") throw invalidArgument(field, "is required");
  return value;
}

function input(role: LeafInput["role"], position: number, ref: AssetRef, weight: number | null): LeafInput {
  return {
    role,
    position,
    asset_id: ref.assetId,
    content_hash: ref.contentHash,
    version: ref.version === 0 ? null : ref.version,
    weight,
  };
}

/** The inputs of a receipt in leaf order: by role (source image, variant image, workflow, model, LoRA), then position. */
function leafInputs(receipt: Receipt): LeafInput[] {
  const inputs: LeafInput[] = [];
  if (receipt.sourceImage) inputs.push(input("source_image", 0, receipt.sourceImage, null));
  if (receipt.variantImage) inputs.push(input("variant_image", 0, receipt.variantImage, null));
  if (receipt.workflow) inputs.push(input("workflow", 0, receipt.workflow, null));
  if (receipt.model) inputs.push(input("model", 0, receipt.model, null));
  receipt.loras.forEach((lora, position) => {
    if (!lora.asset) throw invalidArgument(`loras[${position}].asset`, "is required");
    if (!Number.isFinite(lora.weight)) throw invalidArgument(`loras[${position}].weight`, "must be a finite number");
    inputs.push(input("lora", position, lora.asset, lora.weight));
  });
  return inputs;
}

/**
 * The `receipt.created` document of a receipt as served. `recordedBy` is the `sub` of the token that created it
 * (`Receipt.recorded_by` once the API serves it).
 */
export function receiptCreatedDocument(receipt: Receipt, recordedBy: string): ReceiptCreatedDocument {
  return {
    spec: RECEIPT_LOG_SPEC_V1,
    event: "receipt.created",
    receipt_id: requiredString("receipt_id", receipt.receiptId),
    segment_id: receipt.segmentId,
    scene_id: receipt.sceneId,
    project_id: receipt.projectId,
    character_name: receipt.characterName,
    sequence_index: receipt.sequenceIndex,
    inputs_hash: receipt.inputsHash,
    inputs: leafInputs(receipt),
    workflow_version: receipt.workflowVersion,
    generation_started_at: formatLeafTime("generation_started_at", receipt.generationStartedAt),
    regeneration_job_id: optional(receipt.regenerationJobId),
    supersedes_segment_id: optional(receipt.supersedesSegmentId),
    idempotency_key: receipt.idempotencyKey,
    recorded_by: requiredString("recorded_by", recordedBy),
    created_at: formatLeafTime("created_at", receipt.createdAt),
  };
}

const COMPLETED_STATUS: Partial<Record<ReceiptStatus, ReceiptCompletedDocument["status"]>> = {
  [ReceiptStatus.SUCCEEDED]: "SUCCEEDED",
  [ReceiptStatus.FAILED]: "FAILED",
};

/**
 * The `receipt.completed` document of a completed receipt as served. `completedBy` is the `sub` of the token that
 * completed it (`Receipt.completed_by` once the API serves it). A receipt still running is INVALID_ARGUMENT `status`.
 */
export function receiptCompletedDocument(receipt: Receipt, completedBy: string): ReceiptCompletedDocument {
  const status = COMPLETED_STATUS[receipt.status];
  if (status === undefined) throw invalidArgument("status", "must be SUCCEEDED or FAILED for a completed receipt");
  const duration = Number(receipt.generationDurationMs);
  if (!Number.isSafeInteger(duration)) throw invalidArgument("generation_duration_ms", "must be a whole number of milliseconds");
  return {
    spec: RECEIPT_LOG_SPEC_V1,
    event: "receipt.completed",
    receipt_id: requiredString("receipt_id", receipt.receiptId),
    status,
    generation_completed_at: formatLeafTime("generation_completed_at", receipt.generationCompletedAt),
    generation_duration_ms: duration,
    output_hash: optional(receipt.outputHash),
    recorded_by: requiredString("completed_by", completedBy),
  };
}

/** The leaf text (RFC 8785) of a leaf document; its UTF-8 bytes are the leaf. */
export function leafText(document: ReceiptCreatedDocument | ReceiptCompletedDocument): string {
  const text = canonicalJson(document);
  if (text === undefined) throw new Error("a leaf document could not be serialised");
  return text;
}

/** The `receipt.created` leaf of a receipt as served (see {@link receiptCreatedDocument}). */
export function receiptCreatedLeaf(receipt: Receipt, recordedBy: string): string {
  return leafText(receiptCreatedDocument(receipt, recordedBy));
}

/** The `receipt.completed` leaf of a completed receipt as served (see {@link receiptCompletedDocument}). */
export function receiptCompletedLeaf(receipt: Receipt, completedBy: string): string {
  return leafText(receiptCompletedDocument(receipt, completedBy));
}

/** The Merkle leaf hash of a leaf text: H(0x00 ‖ UTF-8 bytes). */
export function receiptLeafHash(leaf: string): Buffer {
  return hashLeaf(leaf);
}
