import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { EstimateBasis, GenerationInputsSchema, GpuTimeEstimateSchema } from "@provenance/shared";
import { estimateKeyText, estimateKeysOf, estimateOf, estimateTotals, type KeyDurations } from "./gpu-estimate.js";

const inputs = create(GenerationInputsSchema, {
  workflow: { assetId: "wf", contentHash: "a".repeat(64), version: 1 },
  model: { assetId: "wan", contentHash: "b".repeat(64), version: 1 },
  resolutionWidth: 832,
  resolutionHeight: 480,
  steps: 28,
});

function history(entries: [number, KeyDurations][]) {
  const keys = estimateKeysOf(inputs).map((k) => estimateKeyText(k.key));
  const byText = new Map(entries.map(([i, d]) => [keys[i]!, d]));
  return (key: Parameters<typeof estimateKeyText>[0]) => byText.get(estimateKeyText(key));
}

describe("GPU-time estimates", () => {
  it("takes the most specific basis with history", () => {
    const same = estimateOf(inputs, history([[0, { medianMs: 30_000n, sampleSize: 14 }], [1, { medianMs: 1n, sampleSize: 99 }]]));
    expect(same).toMatchObject({ estimatedGpuMs: 30_000n, sampleSize: 14, basis: EstimateBasis.SAME_SETTINGS });
    expect(same.summary).toBe("median of 14 past receipts with the same workflow, model, 832x480 and 28 steps");
    const model = estimateOf(inputs, history([[0, { medianMs: 0n, sampleSize: 0 }], [1, { medianMs: 40_000n, sampleSize: 3 }]]));
    expect(model).toMatchObject({ estimatedGpuMs: 40_000n, basis: EstimateBasis.SAME_MODEL });
    const all = estimateOf(inputs, history([[2, { medianMs: 5_000n, sampleSize: 1 }]]));
    expect(all).toMatchObject({ estimatedGpuMs: 5_000n, basis: EstimateBasis.ALL_RECEIPTS, summary: "median of 1 past receipt of any kind (none with this model)" });
    expect(estimateOf(inputs, history([]))).toMatchObject({ estimatedGpuMs: 0n, sampleSize: 0, basis: EstimateBasis.NO_HISTORY });
  });

  it("sums a plan and counts jobs with none", () => {
    const e = (ms: bigint, basis: EstimateBasis) => create(GpuTimeEstimateSchema, { estimatedGpuMs: ms, basis, sampleSize: 1 });
    expect(estimateTotals([e(60_000n, EstimateBasis.SAME_SETTINGS), e(0n, EstimateBasis.NO_HISTORY), undefined, e(30_000n, EstimateBasis.ALL_RECEIPTS)])).toEqual({
      estimatedGpuMs: 90_000n,
      jobsWithoutEstimate: 2,
    });
  });
});
