/** A stored receipt as plain data, and its mapping to the API message: pure, no I/O. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AssetRefSchema,
  InputRole,
  ReceiptSchema,
  ReceiptStatus,
  SegmentSchema,
  type AssetRef,
  type Receipt,
  type Segment,
} from "@provenance/shared";
import type { InputRow, InputRoleName, ReceiptDraft } from "./new-receipt.js";

/** Receipt statuses as stored. */
export type ReceiptStatusName = "RUNNING" | "SUCCEEDED" | "FAILED" | "LEGACY";

/** A segment as stored. */
export interface SegmentRecord {
  segmentId: string;
  sceneId: string;
  projectId: string;
  characterName: string;
  sequenceIndex: number;
  supersedesSegmentId: string | null;
  supersededBySegmentId: string | null;
  createdAt: Date;
}

/** A receipt as stored: its draft, placed in its stored segment, plus what storage and completion add. */
export interface ReceiptRecord extends Omit<ReceiptDraft, "segment"> {
  receiptId: string;
  seq: bigint;
  segment: SegmentRecord;
  status: ReceiptStatusName;
  generationCompletedAt: Date | null;
  generationDurationMs: number | null;
  outputHash: string | null;
  createdAt: Date;
  /** The `sub` of the token that recorded it; null for receipts recorded before identities were. */
  recordedBy: string | null;
  /** The `sub` of the token that completed it; null while running (and for completions before identities were). */
  completedBy: string | null;
  /** A LEGACY receipt's unknown fields, as field paths; empty for every other receipt. */
  missingFields: string[];
}

/** What storage assigns to a receipt when it inserts it. */
export interface StoredReceiptKey {
  receiptId: string;
  seq: bigint;
  createdAt: Date;
}

/**
 * A receipt just recorded by `recordedBy` (the caller's `sub`): its draft, placed in its segment as stored, with what
 * storage assigned; it starts RUNNING with no completion fields.
 */
export function newReceiptRecord(draft: ReceiptDraft, stored: StoredReceiptKey, segment: SegmentRecord, recordedBy: string | null): ReceiptRecord {
  const { segment: _segmentDraft, ...fields } = draft;
  return {
    ...fields,
    ...stored,
    segment,
    status: "RUNNING",
    generationCompletedAt: null,
    generationDurationMs: null,
    outputHash: null,
    recordedBy,
    completedBy: null,
    missingFields: [],
  };
}

const STATUS: Record<ReceiptStatusName, ReceiptStatus> = {
  RUNNING: ReceiptStatus.RUNNING,
  SUCCEEDED: ReceiptStatus.SUCCEEDED,
  FAILED: ReceiptStatus.FAILED,
  LEGACY: ReceiptStatus.LEGACY,
};

const ROLE: Record<InputRoleName, InputRole> = {
  source_image: InputRole.SOURCE_IMAGE,
  variant_image: InputRole.VARIANT_IMAGE,
  workflow: InputRole.WORKFLOW,
  model: InputRole.MODEL,
  lora: InputRole.LORA,
};

/** The API enum of a stored role. */
export function inputRoleOf(role: InputRoleName): InputRole {
  return ROLE[role];
}

/** The API enum of a stored status. */
export function receiptStatusOf(status: ReceiptStatusName): ReceiptStatus {
  return STATUS[status];
}

function ref(input: InputRow): AssetRef {
  return create(AssetRefSchema, { assetId: input.assetId, contentHash: input.contentHash, version: input.version ?? 0 });
}

/** A single input's reference; absent only where a LEGACY receipt does not know it. */
function refOrNone(input: InputRow | undefined): AssetRef | undefined {
  return input ? ref(input) : undefined;
}

/** Maps a stored segment to the API message. */
export function toSegmentMessage(s: SegmentRecord): Segment {
  return create(SegmentSchema, {
    segmentId: s.segmentId,
    sceneId: s.sceneId,
    projectId: s.projectId,
    characterName: s.characterName,
    sequenceIndex: s.sequenceIndex,
    supersededBySegmentId: s.supersededBySegmentId ?? "",
    supersedesSegmentId: s.supersedesSegmentId ?? "",
    active: s.supersededBySegmentId === null,
    createdAt: timestampFromDate(s.createdAt),
  });
}

/** Messages already built, per record: a write builds one for its event and the same one answers the call. */
const messages = new WeakMap<ReceiptRecord, Receipt>();

/**
 * Maps a stored receipt to the API message. Records are never mutated (a completion makes a new one), so the message
 * of a record is built once and shared; callers must not mutate it either.
 */
export function toReceiptMessage(r: ReceiptRecord): Receipt {
  let message = messages.get(r);
  if (!message) {
    message = buildReceiptMessage(r);
    messages.set(r, message);
  }
  return message;
}

function buildReceiptMessage(r: ReceiptRecord): Receipt {
  const single = (role: InputRoleName) => r.inputs.find((i) => i.role === role);
  const variant = single("variant_image");
  return create(ReceiptSchema, {
    receiptId: r.receiptId,
    segmentId: r.segment.segmentId,
    sceneId: r.segment.sceneId,
    projectId: r.segment.projectId,
    characterName: r.segment.characterName,
    sequenceIndex: r.segment.sequenceIndex,
    sourceImage: refOrNone(single("source_image")),
    variantImage: variant ? ref(variant) : undefined,
    workflow: refOrNone(single("workflow")),
    model: refOrNone(single("model")),
    loras: r.inputs
      .filter((i) => i.role === "lora")
      .sort((a, b) => a.position - b.position)
      .map((i) => ({ asset: ref(i), weight: i.weight ?? 0 })),
    workflowVersion: r.workflowVersion,
    promptText: r.promptText,
    negativePrompt: r.negativePrompt,
    cfgScale: r.cfgScale,
    seed: r.seed,
    steps: r.steps,
    sampler: r.sampler,
    resolutionWidth: r.resolutionWidth,
    resolutionHeight: r.resolutionHeight,
    additionalParams: r.additionalParams,
    inputsHash: r.inputsHash,
    status: STATUS[r.status],
    generationStartedAt: timestampFromDate(r.generationStartedAt),
    generationCompletedAt: r.generationCompletedAt ? timestampFromDate(r.generationCompletedAt) : undefined,
    generationDurationMs: BigInt(r.generationDurationMs ?? 0),
    outputHash: r.outputHash ?? "",
    regenerationJobId: r.regenerationJobId ?? "",
    supersedesSegmentId: r.supersedesSegmentId ?? "",
    idempotencyKey: r.idempotencyKey,
    createdAt: timestampFromDate(r.createdAt),
    recordedBy: r.recordedBy ?? "",
    completedBy: r.completedBy ?? "",
    missingFields: r.missingFields,
    reproductionOfReceiptId: r.reproductionOfReceiptId ?? "",
  });
}
