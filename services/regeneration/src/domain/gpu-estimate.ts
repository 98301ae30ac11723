/**
 * GPU-time estimates: the median generation time of past SUCCEEDED receipts like a job, from the most specific
 * history there is — same workflow, model, resolution and steps; else the same model; else every receipt; else none.
 * Pure, no I/O.
 */
import { create } from "@bufbuild/protobuf";
import { EstimateBasis, GpuTimeEstimateSchema, type GenerationInputs, type GpuTimeEstimate } from "@provenance/shared";

/** A GetGenerationDurations key (an empty id or a 0 matches any value). */
export interface EstimateKey {
  workflowAssetId: string;
  modelAssetId: string;
  resolutionWidth: number;
  resolutionHeight: number;
  steps: number;
}

/** What GetGenerationDurations answered for one key. */
export interface KeyDurations {
  medianMs: bigint;
  sampleSize: number;
}

/** The bases tried, most specific first, with the key each reads. */
export function estimateKeysOf(inputs: GenerationInputs): { basis: EstimateBasis; key: EstimateKey }[] {
  const model = inputs.model?.assetId ?? "";
  return [
    {
      basis: EstimateBasis.SAME_SETTINGS,
      key: {
        workflowAssetId: inputs.workflow?.assetId ?? "",
        modelAssetId: model,
        resolutionWidth: inputs.resolutionWidth,
        resolutionHeight: inputs.resolutionHeight,
        steps: inputs.steps,
      },
    },
    { basis: EstimateBasis.SAME_MODEL, key: { workflowAssetId: "", modelAssetId: model, resolutionWidth: 0, resolutionHeight: 0, steps: 0 } },
    { basis: EstimateBasis.ALL_RECEIPTS, key: { workflowAssetId: "", modelAssetId: "", resolutionWidth: 0, resolutionHeight: 0, steps: 0 } },
  ];
}

/** One string per distinct key. */
export function estimateKeyText(k: EstimateKey): string {
  return JSON.stringify([k.workflowAssetId, k.modelAssetId, k.resolutionWidth, k.resolutionHeight, k.steps]);
}

function receipts(n: number): string {
  return n === 1 ? "1 past receipt" : `${n.toLocaleString("en-US")} past receipts`;
}

/** The estimate of a job from the durations of its keys (`durationsOf`: by {@link estimateKeyText}). */
export function estimateOf(inputs: GenerationInputs, durationsOf: (key: EstimateKey) => KeyDurations | undefined): GpuTimeEstimate {
  for (const { basis, key } of estimateKeysOf(inputs)) {
    const d = durationsOf(key);
    if (!d || d.sampleSize === 0) continue;
    const median = `median of ${receipts(d.sampleSize)}`;
    const summary =
      basis === EstimateBasis.SAME_SETTINGS
        ? `${median} with the same workflow, model, ${key.resolutionWidth}x${key.resolutionHeight} and ${key.steps} steps`
        : basis === EstimateBasis.SAME_MODEL
          ? `${median} with the same model (none with the same workflow, resolution and steps)`
          : `${median} of any kind (none with this model)`;
    return create(GpuTimeEstimateSchema, { estimatedGpuMs: d.medianMs, sampleSize: d.sampleSize, basis, summary });
  }
  return create(GpuTimeEstimateSchema, {
    estimatedGpuMs: 0n,
    sampleSize: 0,
    basis: EstimateBasis.NO_HISTORY,
    summary: "no past receipt to estimate from",
  });
}

/** A plan's totals: the estimates summed, and how many jobs have none (no history, or planned before estimates). */
export function estimateTotals(estimates: readonly (GpuTimeEstimate | undefined)[]): { estimatedGpuMs: bigint; jobsWithoutEstimate: number } {
  let estimatedGpuMs = 0n;
  let jobsWithoutEstimate = 0;
  for (const e of estimates) {
    if (!e || e.basis === EstimateBasis.NO_HISTORY || e.basis === EstimateBasis.UNSPECIFIED) jobsWithoutEstimate += 1;
    else estimatedGpuMs += e.estimatedGpuMs;
  }
  return { estimatedGpuMs, jobsWithoutEstimate };
}
