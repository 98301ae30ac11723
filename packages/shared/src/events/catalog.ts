/**
 * The event catalog: every subject the platform publishes, the stream that holds it and the protobuf message it
 * carries, defined once. Publishers, consumers, tests and tools name subjects through these constants.
 */
import type { DescMessage } from "@bufbuild/protobuf";
import {
  AssetCurrentChangedSchema,
  AssetVersionPublishedSchema,
  GenerationJobRequestedSchema,
  LogCheckpointSignedSchema,
  ReceiptCompletedSchema,
  ReceiptCreatedSchema,
  ReceiptTamperedSchema,
  StalenessDetectedSchema,
} from "../gen/provenance/v1/events_pb.js";
import type { StreamKind } from "./subjects.js";

/** The stream of provenance facts (subjects `provenance.>`, limits retention). */
export const PROVENANCE_STREAM: StreamKind = "PROVENANCE";
/** The stream of work for the pipeline (subjects `generation.>`, work-queue retention). */
export const GENERATION_STREAM: StreamKind = "GENERATION";

/** Un-namespaced subjects. */
export const RECEIPT_CREATED = "provenance.receipt.created";
export const RECEIPT_COMPLETED = "provenance.receipt.completed";
/**
 * Header of every receipt event: the receipt's regeneration job id, empty for a receipt of no job. Consumers that
 * only follow jobs' receipts skip the others without decoding them; an event without the header (published before
 * it existed) is decoded.
 */
export const RECEIPT_JOB_HEADER = "Provenance-Regeneration-Job";
export const ASSET_VERSION_PUBLISHED = "provenance.asset.version_published";
export const ASSET_CURRENT_CHANGED = "provenance.asset.current_changed";
/** Prefix of `provenance.staleness.detected.<project_id>` (see {@link stalenessDetectedSubject}). */
export const STALENESS_DETECTED_PREFIX = "provenance.staleness.detected";
/** Every project's staleness changes, for subscribers. */
export const STALENESS_DETECTED_ALL = `${STALENESS_DETECTED_PREFIX}.>`;
export const JOB_REQUESTED = "generation.jobs.requested";
/** Each checkpoint the receipt log signs, for witnesses outside the database. */
export const LOG_CHECKPOINT = "provenance.log.checkpoint";
/** A stored receipt that no longer matches the receipt log, or a log inconsistent with a checkpoint seen before. */
export const RECEIPT_TAMPERED = "provenance.receipt.tampered";

/** The message each subject carries (staleness subjects by their prefix). */
export const EVENT_MESSAGES = {
  [RECEIPT_CREATED]: ReceiptCreatedSchema,
  [RECEIPT_COMPLETED]: ReceiptCompletedSchema,
  [ASSET_VERSION_PUBLISHED]: AssetVersionPublishedSchema,
  [ASSET_CURRENT_CHANGED]: AssetCurrentChangedSchema,
  [STALENESS_DETECTED_PREFIX]: StalenessDetectedSchema,
  [JOB_REQUESTED]: GenerationJobRequestedSchema,
  [LOG_CHECKPOINT]: LogCheckpointSignedSchema,
  [RECEIPT_TAMPERED]: ReceiptTamperedSchema,
} as const satisfies Record<string, DescMessage>;

/**
 * `provenance.staleness.detected.<project_id>`. Ids are used as given when they are one valid subject token; an id
 * containing `.`, `*`, `>` or other characters NATS cannot carry in a token is percent-encoded.
 */
export function stalenessDetectedSubject(projectId: string): string {
  const token = /^[A-Za-z0-9_\-:@+=~]+$/.test(projectId)
    ? projectId
    : encodeURIComponent(projectId).replace(/[.*>!'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${STALENESS_DETECTED_PREFIX}.${token}`;
}
