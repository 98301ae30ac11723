/**
 * Building one regeneration job from a stale segment: the old receipt's inputs with only the stale
 * assets swapped for their current versions, and the inputs hash the new receipt must carry.
 */
import { create } from "@bufbuild/protobuf";
import {
  AssetRefSchema,
  GenerationInputsSchema,
  LoraInputSchema,
  PlannedJobSchema,
  StalenessReasonSchema,
  inputsHashOfMessage,
  type AssetRef,
  type GenerationInputs,
  type PlannedJob,
  type Receipt,
  type StaleSegment,
  type StalenessReason,
} from "@provenance/shared";

/** The current version of an asset, as AssetService reports it. */
export interface CurrentVersion {
  readonly contentHash: string;
  readonly version: number;
}

/** Current versions by asset id. */
export type CurrentVersions = ReadonlyMap<string, CurrentVersion>;

/** The current versions of the assets AssetService reported (unknown or versionless assets are left out). */
export function currentVersionsOf(assets: readonly ({ assetId: string; currentContentHash: string; currentVersion: number } | undefined)[]): CurrentVersions {
  const current = new Map<string, CurrentVersion>();
  for (const a of assets) {
    if (a && a.currentContentHash) current.set(a.assetId, { contentHash: a.currentContentHash, version: a.currentVersion });
  }
  return current;
}

function copyRef(ref: AssetRef | undefined): AssetRef | undefined {
  return ref && create(AssetRefSchema, { assetId: ref.assetId, contentHash: ref.contentHash, version: ref.version });
}

/** Every input of a receipt, unchanged, as GenerationInputs. */
export function inputsOfReceipt(receipt: Receipt): GenerationInputs {
  return create(GenerationInputsSchema, {
    sourceImage: copyRef(receipt.sourceImage),
    variantImage: copyRef(receipt.variantImage),
    workflow: copyRef(receipt.workflow),
    model: copyRef(receipt.model),
    loras: receipt.loras.map((l) => create(LoraInputSchema, { asset: copyRef(l.asset), weight: l.weight })),
    workflowVersion: receipt.workflowVersion,
    promptText: receipt.promptText,
    negativePrompt: receipt.negativePrompt,
    cfgScale: receipt.cfgScale,
    seed: receipt.seed,
    steps: receipt.steps,
    sampler: receipt.sampler,
    resolutionWidth: receipt.resolutionWidth,
    resolutionHeight: receipt.resolutionHeight,
    additionalParams: receipt.additionalParams === undefined ? undefined : structuredClone(receipt.additionalParams),
  });
}

/** The canonical inputs hash (spec provenance/inputs/v1) of GenerationInputs. */
export function inputsHashOf(inputs: GenerationInputs): string {
  return inputsHashOfMessage(inputs);
}

/**
 * The job that would replace `segment`, or undefined when nothing of it is stale any more.
 *
 * Only assets named by the segment's staleness reasons are considered, and each is swapped only when
 * its current version (from AssetService, the source of truth at plan time) differs from what the
 * receipt used. Every other input — prompt, negative prompt, seed, CFG, steps, sampler, resolution,
 * params, fresh assets, LoRA order and weights — is the old receipt's, unchanged.
 */
export function buildPlannedJob(segment: StaleSegment, receipt: Receipt, current: CurrentVersions): PlannedJob | undefined {
  const inputs = inputsOfReceipt(receipt);
  const staleAssets = new Set(segment.reasons.map((r) => r.assetId));
  const swapped: StalenessReason[] = [];

  const swap = (ref: AssetRef | undefined): AssetRef | undefined => {
    if (!ref || !staleAssets.has(ref.assetId)) return ref;
    const now = current.get(ref.assetId);
    if (!now || now.contentHash.toLowerCase() === ref.contentHash.toLowerCase()) return ref;
    const reason = segment.reasons.find((r) => r.assetId === ref.assetId);
    swapped.push(
      create(StalenessReasonSchema, {
        kind: reason?.kind,
        assetId: ref.assetId,
        assetName: reason?.assetName ?? "",
        receiptVersion: reason?.receiptVersion ?? ref.version,
        currentVersion: now.version,
        role: reason?.role,
        receiptContentHash: ref.contentHash.toLowerCase(),
        currentContentHash: now.contentHash.toLowerCase(),
      }),
    );
    return create(AssetRefSchema, { assetId: ref.assetId, contentHash: now.contentHash.toLowerCase(), version: now.version });
  };

  inputs.sourceImage = swap(inputs.sourceImage);
  inputs.variantImage = swap(inputs.variantImage);
  inputs.workflow = swap(inputs.workflow);
  inputs.model = swap(inputs.model);
  for (const lora of inputs.loras) lora.asset = swap(lora.asset);
  if (swapped.length === 0) return undefined;

  return create(PlannedJobSchema, {
    oldSegmentId: segment.segmentId,
    oldReceiptId: receipt.receiptId,
    sceneId: segment.sceneId,
    projectId: segment.projectId,
    characterName: receipt.characterName,
    sequenceIndex: receipt.sequenceIndex,
    inputs,
    expectedInputsHash: inputsHashOf(inputs),
    swapped,
  });
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders jobs for display and submission: by scene, then position in the scene, then segment id. */
export function compareJobs(a: PlannedJob, b: PlannedJob): number {
  return byText(a.sceneId, b.sceneId) || a.sequenceIndex - b.sequenceIndex || byText(a.oldSegmentId, b.oldSegmentId);
}
