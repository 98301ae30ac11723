/** Rows as node-postgres returns them for the statements in statements.ts, read into the domain's records. */
import type { JsonObject } from "@bufbuild/protobuf";
import type { Row } from "@provenance/shared";
import type { UsageRecord } from "../domain/asset-usage.js";
import type { ProjectSummaryRecord, SegmentListingRecord } from "../domain/listings.js";
import type { InputRoleName, InputRow } from "../domain/new-receipt.js";
import type { ReceiptRecord, ReceiptStatusName, SegmentRecord } from "../domain/receipt-record.js";

/** A segment from a row with the segment columns (`segment_created_at`, or `created_at` when alone). */
export function segmentOf(row: Row): SegmentRecord {
  return {
    segmentId: row.segment_id as string,
    sceneId: row.scene_id as string,
    projectId: row.project_id as string,
    characterName: row.character_name as string,
    sequenceIndex: row.sequence_index as number,
    supersedesSegmentId: (row.supersedes_segment_id as string | null) ?? null,
    supersededBySegmentId: (row.superseded_by_segment_id as string | null) ?? null,
    createdAt: (row.segment_created_at ?? row.created_at) as Date,
  };
}

/** An input from a receipt_inputs row (or one element of SEGMENT_HISTORY_SQL's JSON array). */
export function inputOf(row: Row): InputRow {
  return {
    role: row.role as InputRoleName,
    position: row.position as number,
    assetId: row.asset_id as string,
    // NULL only for an input of a LEGACY receipt that does not know it.
    contentHash: (row.content_hash as string | null) ?? "",
    version: (row.version as number | null) ?? null,
    weight: (row.weight as number | null) ?? null,
  };
}

/** A receipt from a row with the receipt columns, given its inputs. */
export function receiptOf(row: Row, inputs: InputRow[]): ReceiptRecord {
  return {
    receiptId: row.receipt_id as string,
    seq: BigInt(row.seq as string),
    segment: segmentOf(row),
    workflowVersion: row.workflow_version as string,
    promptText: row.prompt_text as string,
    negativePrompt: row.negative_prompt as string,
    cfgScale: row.cfg_scale as number,
    seed: BigInt(row.seed as string),
    steps: row.steps as number,
    sampler: row.sampler as string,
    resolutionWidth: row.resolution_width as number,
    resolutionHeight: row.resolution_height as number,
    additionalParams: row.additional_params as JsonObject,
    inputsHash: (row.inputs_hash as string | null) ?? "",
    status: row.status as ReceiptStatusName,
    generationStartedAt: row.generation_started_at as Date,
    generationCompletedAt: (row.generation_completed_at as Date | null) ?? null,
    generationDurationMs: row.generation_duration_ms === null ? null : Number(row.generation_duration_ms),
    outputHash: (row.output_hash as string | null) ?? null,
    regenerationJobId: (row.regeneration_job_id as string | null) ?? null,
    supersedesSegmentId: (row.r_supersedes_segment_id as string | null) ?? null,
    idempotencyKey: row.idempotency_key as string,
    requestFingerprint: row.request_fingerprint as string,
    createdAt: row.created_at as Date,
    recordedBy: (row.recorded_by as string | null) ?? null,
    completedBy: (row.completed_by as string | null) ?? null,
    missingFields: (row.missing_fields as string[] | null) ?? [],
    reproductionOfReceiptId: (row.reproduction_of_receipt_id as string | null) ?? null,
    inputs,
  };
}

/** A usage row of assetUsageSql. */
export function usageOf(row: Row): UsageRecord {
  return {
    receiptSeq: BigInt(row.receipt_seq as string),
    receiptId: row.receipt_id as string,
    role: row.role as InputRoleName,
    position: row.position as number,
    contentHash: (row.content_hash as string | null) ?? "",
    version: (row.version as number | null) ?? null,
    weight: (row.weight as number | null) ?? null,
    status: row.status as ReceiptStatusName,
    generationStartedAt: row.generation_started_at as Date,
    segment: segmentOf(row),
  };
}

/** A row of listProjectsSql. */
export function projectSummaryOf(row: Row): ProjectSummaryRecord {
  return {
    projectId: row.project_id as string,
    sceneCount: row.scene_count as number,
    activeSegmentCount: row.active_segment_count as number,
    supersededSegmentCount: row.superseded_segment_count as number,
    lastRecordedAt: (row.last_recorded_at as Date | null) ?? null,
  };
}

/** A row of listSegmentsSql. */
export function segmentListingOf(row: Row): SegmentListingRecord {
  return {
    segment: segmentOf(row),
    currentReceiptId: (row.current_receipt_id as string | null) ?? null,
    latestStatus: (row.latest_status as ReceiptStatusName | null) ?? null,
    receiptCount: row.receipt_count as number,
  };
}
