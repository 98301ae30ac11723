/**
 * ImportLegacySegments' rules: a segment made before receipts were recorded, turned into the rows of a LEGACY receipt
 * with whatever is known of it — what is not known listed in missing_fields (field paths) and stored as its zero
 * value; the inputs hash only when everything it covers is known. Idempotent per segment: one key per segment id, and
 * the fingerprint of the segment's content tells a repeat of the same import from another. Pure, no I/O.
 */
import { createHash } from "node:crypto";
import { toJson, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  LegacySegmentSchema,
  alreadyExists,
  canonicalJson,
  computeInputsHash,
  failedPrecondition,
  invalidArgument,
  type AssetRef,
  type LegacySegment,
} from "@provenance/shared";
import type { InputRoleName, InputRow, ReceiptDraft } from "./new-receipt.js";
import { newReceiptRecord, type ReceiptRecord, type SegmentRecord, type StoredReceiptKey } from "./receipt-record.js";

/** The idempotency key of a segment's LEGACY receipt. */
export function legacyIdempotencyKey(segmentId: string): string {
  return `legacy:${segmentId}`;
}

/** Everything to insert for one LEGACY receipt: a receipt draft (zero values where unknown) and what a LEGACY receipt adds. */
export interface LegacyDraft extends ReceiptDraft {
  /** What is not known, as field paths, in the order of the LegacySegment's fields. */
  missingFields: string[];
  /** When the segment was made: its start and completion. */
  generatedAt: Date;
  /** Lower-case hex; null when not known. */
  outputHash: string | null;
}

/** The SHA-256 of the segment's canonical JSON (hash case does not matter): two imports are the same exactly when these match. */
export function legacyFingerprint(segment: LegacySegment): string {
  const text = canonicalJson(toJson(LegacySegmentSchema, segment))!.replace(/"[0-9A-F]{64}"/g, (h) => h.toLowerCase());
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function inputRow(role: InputRoleName, position: number, ref: AssetRef, weight: number | null): InputRow {
  return {
    role,
    position,
    assetId: ref.assetId,
    contentHash: ref.contentHash.toLowerCase(),
    version: ref.version === 0 ? null : ref.version,
    weight,
  };
}

/**
 * The draft of a segment's LEGACY receipt, from a segment that passed the rule table (run it under the entry's
 * `withFieldPrefix`). Contradictions are INVALID_ARGUMENT naming the field: a variant image with no_variant_image,
 * LoRAs with no_loras.
 */
export function draftLegacySegment(s: LegacySegment): LegacyDraft {
  if (s.noVariantImage && s.variantImage) {
    throw invalidArgument("no_variant_image", "must not be true when variant_image is given");
  }
  if (s.noLoras && s.loras.length > 0) throw invalidArgument("no_loras", "must not be true when loras are given");
  if (!s.generatedAt) throw invalidArgument("generated_at", "is required: send a timestamp (RFC 3339 in JSON)");

  const missing: string[] = [];
  const inputs: InputRow[] = [];
  const single = (path: string, role: InputRoleName, ref: AssetRef | undefined, knownAbsent = false) => {
    if (!ref) {
      if (!knownAbsent) missing.push(path);
      return;
    }
    if (ref.contentHash === "") missing.push(`${path}.content_hash`);
    inputs.push(inputRow(role, 0, ref, null));
  };
  single("source_image", "source_image", s.sourceImage);
  single("variant_image", "variant_image", s.variantImage, s.noVariantImage);
  single("workflow", "workflow", s.workflow);
  single("model", "model", s.model);
  if (s.loras.length === 0 && !s.noLoras) missing.push("loras");
  s.loras.forEach((l, i) => {
    if (l.asset!.contentHash === "") missing.push(`loras[${i}].content_hash`);
    inputs.push(inputRow("lora", i, l.asset!, l.weight));
  });
  if (s.workflowVersion === "") missing.push("workflow_version");
  const known = <T>(path: string, value: T | undefined): value is T => {
    if (value === undefined) missing.push(path);
    return value !== undefined;
  };
  const promptText = known("prompt_text", s.promptText) ? s.promptText : "";
  const negativePrompt = known("negative_prompt", s.negativePrompt) ? s.negativePrompt : "";
  const cfgScale = known("cfg_scale", s.cfgScale) ? s.cfgScale : 0;
  const seed = known("seed", s.seed) ? s.seed : 0n;
  const steps = known("steps", s.steps) ? s.steps : 0;
  const sampler = known("sampler", s.sampler) ? s.sampler : "";
  const width = known("resolution_width", s.resolutionWidth) ? s.resolutionWidth : 0;
  const height = known("resolution_height", s.resolutionHeight) ? s.resolutionHeight : 0;
  const params: JsonObject | undefined = s.additionalParams;
  if (params === undefined) missing.push("additional_params");

  // The inputs hash covers every input's hash and every parameter but the workflow version: known only if they are.
  const hashable = missing.every((f) => f === "workflow_version");
  const inputsHash = hashable
    ? computeInputsHash({
        sourceImageHash: s.sourceImage!.contentHash,
        variantImageHash: s.variantImage?.contentHash ?? null,
        workflowHash: s.workflow!.contentHash,
        modelHash: s.model!.contentHash,
        loras: s.loras.map((l) => ({ hash: l.asset!.contentHash, weight: l.weight })),
        promptText,
        negativePrompt,
        cfgScale,
        seed,
        steps,
        sampler,
        width,
        height,
        params: params ?? {},
      })
    : "";
  if (!hashable) missing.push("inputs_hash");
  if (s.outputHash === "") missing.push("output_hash");

  const generatedAt = timestampDate(s.generatedAt);
  return {
    segment: {
      segmentId: s.segmentId,
      sceneId: s.sceneId,
      projectId: s.projectId,
      characterName: s.characterName,
      sequenceIndex: s.sequenceIndex,
      supersedesSegmentId: null,
    },
    workflowVersion: s.workflowVersion,
    promptText,
    negativePrompt,
    cfgScale,
    seed,
    steps,
    sampler,
    resolutionWidth: width,
    resolutionHeight: height,
    additionalParams: params ?? {},
    inputsHash,
    generationStartedAt: generatedAt,
    regenerationJobId: null,
    supersedesSegmentId: null,
    reproductionOfReceiptId: null,
    idempotencyKey: legacyIdempotencyKey(s.segmentId),
    requestFingerprint: legacyFingerprint(s),
    inputs,
    missingFields: missing,
    generatedAt,
    outputHash: s.outputHash === "" ? null : s.outputHash.toLowerCase(),
  };
}

/**
 * A segment that already has receipts recorded by the pipeline is not a legacy segment: importing it is
 * FAILED_PRECONDITION naming its segment_id.
 */
export function checkNotRecorded(draft: LegacyDraft, recordedSegments: ReadonlySet<string>, entry: string): void {
  if (recordedSegments.has(draft.segment.segmentId)) {
    throw failedPrecondition(
      `${entry}segment_id: segment "${draft.segment.segmentId}" already has receipts recorded by the pipeline; only a segment made before receipts were recorded can be imported`,
    );
  }
}

/** The LEGACY receipt just stored for `draft`: born complete (started and completed when it was made), never changed. */
export function legacyReceiptRecord(draft: LegacyDraft, stored: StoredReceiptKey, segment: SegmentRecord, recordedBy: string): ReceiptRecord {
  const { missingFields, generatedAt, outputHash, ...receiptDraft } = draft;
  return {
    ...newReceiptRecord(receiptDraft, stored, segment, recordedBy),
    status: "LEGACY",
    generationCompletedAt: generatedAt,
    outputHash,
    missingFields,
  };
}

/**
 * The answer to importing a segment that was imported before: the same content is a repeat and gets the stored
 * receipt; other content is ALREADY_EXISTS naming the segment (a LEGACY receipt is immutable, like every receipt).
 * `stored` is the receipt holding the segment's key (undefined while a concurrent import holds it uncommitted).
 */
export function replayedLegacy(draft: LegacyDraft, stored: ReceiptRecord | undefined, entry: string): ReceiptRecord {
  const segment = draft.segment.segmentId;
  if (!stored) throw failedPrecondition(`${entry}segment_id: segment "${segment}" is being imported by a concurrent call`);
  if (stored.requestFingerprint !== draft.requestFingerprint) {
    throw alreadyExists(`${entry}segment_id: segment "${segment}" was already imported as receipt ${stored.receiptId} with different content`);
  }
  return stored;
}
