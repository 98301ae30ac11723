/** GPU-time estimates of jobs: one GetGenerationDurations read for all the jobs' keys, as the caller. */
import type { GenerationInputs, GpuTimeEstimate } from "@provenance/shared";
import type { Caller } from "@provenance/shared/auth";
import type { ReceiptReads } from "../clients/receipt-reads.js";
import { estimateKeysOf, estimateKeyText, estimateOf, type EstimateKey, type KeyDurations } from "../domain/gpu-estimate.js";

/** The EstimateGpuTime use case. */
export class EstimateGpuTime {
  constructor(private readonly receipts: Pick<ReceiptReads, "generationDurations">) {}

  /** The estimate of each job's inputs, in order; every distinct key is read once, in one call per 1,000 keys. */
  async estimate(inputs: readonly GenerationInputs[], caller?: Caller): Promise<GpuTimeEstimate[]> {
    if (inputs.length === 0) return [];
    const keys = new Map<string, EstimateKey>();
    for (const i of inputs) for (const { key } of estimateKeysOf(i)) keys.set(estimateKeyText(key), key);
    const asked = [...keys.values()];
    const answered = await this.receipts.generationDurations(asked, caller);
    const durations = new Map<string, KeyDurations>();
    asked.forEach((key, n) => {
      const d = answered[n];
      if (d) durations.set(estimateKeyText(key), { medianMs: d.medianMs, sampleSize: d.sampleSize });
    });
    return inputs.map((i) => estimateOf(i, (key) => durations.get(estimateKeyText(key))));
  }
}
