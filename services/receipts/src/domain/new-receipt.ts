/** Turning a validated CreateReceipt request into the rows a receipt is made of: pure, no I/O. */
import { createHash } from "node:crypto";
import { toJson, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  CreateReceiptRequestSchema,
  canonicalJson,
  computeInputsHash,
  invalidArgument,
  InputsHashError,
  type AssetRef,
  type CreateReceiptRequest,
} from "@provenance/shared";

/** The role of one input, as stored. */
export type InputRoleName = "source_image" | "variant_image" | "workflow" | "model" | "lora";

/** One normalised input row. */
export interface InputRow {
  role: InputRoleName;
  position: number;
  assetId: string;
  contentHash: string;
  /** null when the pipeline sent no version label. */
  version: number | null;
  weight: number | null;
}

/** The segment a receipt belongs to, as the request describes it. */
export interface SegmentDraft {
  segmentId: string;
  sceneId: string;
  projectId: string;
  characterName: string;
  sequenceIndex: number;
  supersedesSegmentId: string | null;
}

/** Everything to insert for one new receipt. */
export interface ReceiptDraft {
  segment: SegmentDraft;
  workflowVersion: string;
  promptText: string;
  negativePrompt: string;
  cfgScale: number;
  seed: bigint;
  steps: number;
  sampler: string;
  resolutionWidth: number;
  resolutionHeight: number;
  additionalParams: JsonObject;
  inputsHash: string;
  generationStartedAt: Date;
  regenerationJobId: string | null;
  supersedesSegmentId: string | null;
  /** The receipt this one reproduces (RegenerationService.ReproduceSegment); null for an ordinary generation. */
  reproductionOfReceiptId: string | null;
  idempotencyKey: string;
  requestFingerprint: string;
  inputs: InputRow[];
}

function row(role: InputRoleName, position: number, ref: AssetRef, weight: number | null): InputRow {
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
 * The SHA-256 of the request's canonical JSON without its idempotency key: two calls with one
 * key are the same call exactly when their fingerprints match (hash case does not matter).
 */
export function requestFingerprint(req: CreateReceiptRequest): string {
  const json = toJson(CreateReceiptRequestSchema, req) as Record<string, unknown>;
  delete json.idempotencyKey;
  const text = canonicalJson(json)!.replace(/"[0-9A-F]{64}"/g, (h) => h.toLowerCase());
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Builds the draft of a receipt from a request that passed the rule table. */
export function draftReceipt(req: CreateReceiptRequest): ReceiptDraft {
  // The rule table guarantees presence; these guards only narrow types.
  const { sourceImage, workflow, model } = req;
  if (!sourceImage || !workflow || !model || !req.generationStartedAt) {
    throw invalidArgument("source_image", "source_image, workflow, model and generation_started_at are required");
  }
  const params: JsonObject = req.additionalParams ?? {};
  let inputsHash: string;
  try {
    inputsHash = computeInputsHash({
      sourceImageHash: sourceImage.contentHash,
      variantImageHash: req.variantImage?.contentHash ?? null,
      workflowHash: workflow.contentHash,
      modelHash: model.contentHash,
      loras: req.loras.map((l) => ({ hash: l.asset?.contentHash ?? "", weight: l.weight })),
      promptText: req.promptText,
      negativePrompt: req.negativePrompt,
      cfgScale: req.cfgScale,
      seed: req.seed,
      steps: req.steps,
      sampler: req.sampler,
      width: req.resolutionWidth,
      height: req.resolutionHeight,
      params,
    });
  } catch (err) {
    if (err instanceof InputsHashError) throw invalidArgument(err.field, err.message.slice(err.field.length + 2));
    throw err;
  }
  const inputs: InputRow[] = [
    row("source_image", 0, sourceImage, null),
    ...(req.variantImage ? [row("variant_image", 0, req.variantImage, null)] : []),
    row("workflow", 0, workflow, null),
    row("model", 0, model, null),
    ...req.loras.map((l, i) => row("lora", i, l.asset!, l.weight)),
  ];
  const supersedes = req.supersedesSegmentId === "" ? null : req.supersedesSegmentId;
  return {
    segment: {
      segmentId: req.segmentId,
      sceneId: req.sceneId,
      projectId: req.projectId,
      characterName: req.characterName,
      sequenceIndex: req.sequenceIndex,
      supersedesSegmentId: supersedes,
    },
    workflowVersion: req.workflowVersion,
    promptText: req.promptText,
    negativePrompt: req.negativePrompt,
    cfgScale: req.cfgScale,
    seed: req.seed,
    steps: req.steps,
    sampler: req.sampler,
    resolutionWidth: req.resolutionWidth,
    resolutionHeight: req.resolutionHeight,
    additionalParams: params,
    inputsHash,
    generationStartedAt: timestampDate(req.generationStartedAt),
    regenerationJobId: req.regenerationJobId === "" ? null : req.regenerationJobId,
    supersedesSegmentId: supersedes,
    reproductionOfReceiptId: req.reproductionOfReceiptId === "" ? null : req.reproductionOfReceiptId.toLowerCase(),
    idempotencyKey: req.idempotencyKey,
    requestFingerprint: requestFingerprint(req),
    inputs,
  };
}

/** Milliseconds between start and completion; a completion before the start is bad input. */
export function generationDurationMs(startedAt: Date, completedAt: Date): number {
  const ms = completedAt.getTime() - startedAt.getTime();
  if (ms < 0) {
    throw invalidArgument(
      "generation_completed_at",
      `must not be before generation_started_at (${startedAt.toISOString()})`,
    );
  }
  return ms;
}
