/** GetGenerationDurations: which past receipts a generation duration is taken over, and its answer. Pure, no I/O. */
import { create } from "@bufbuild/protobuf";
import { GenerationDurationsSchema, type GenerationDurationKey, type GenerationDurations } from "@provenance/shared";

/** How many of the latest matching SUCCEEDED receipts a median is taken over, at most. */
export const DURATION_SAMPLE_MAX = 1000;

/** A key as the statement takes it: an empty id or a 0 matches any value. */
export interface DurationKey {
  workflowAssetId: string;
  modelAssetId: string;
  resolutionWidth: number;
  resolutionHeight: number;
  steps: number;
}

/** The median and sample size of one key. */
export interface DurationStats {
  medianMs: number;
  sampleSize: number;
}

/** A key of a request, as plain data. */
export function durationKeyOf(k: GenerationDurationKey): DurationKey {
  return {
    workflowAssetId: k.workflowAssetId,
    modelAssetId: k.modelAssetId,
    resolutionWidth: k.resolutionWidth,
    resolutionHeight: k.resolutionHeight,
    steps: k.steps,
  };
}

/** One string per distinct key, so equal keys are looked up once. */
export function durationKeyText(k: DurationKey): string {
  return JSON.stringify([k.workflowAssetId, k.modelAssetId, k.resolutionWidth, k.resolutionHeight, k.steps]);
}

/** The distinct keys of a request, in first-seen order. */
export function distinctDurationKeys(keys: readonly DurationKey[]): DurationKey[] {
  const seen = new Map<string, DurationKey>();
  for (const k of keys) if (!seen.has(durationKeyText(k))) seen.set(durationKeyText(k), k);
  return [...seen.values()];
}

/** The answer for one key: no history is a 0 median over 0 receipts. */
export function toGenerationDurationsMessage(key: DurationKey, stats: DurationStats | undefined): GenerationDurations {
  return create(GenerationDurationsSchema, {
    key,
    medianMs: BigInt(stats?.sampleSize ? stats.medianMs : 0),
    sampleSize: stats?.sampleSize ?? 0,
  });
}
