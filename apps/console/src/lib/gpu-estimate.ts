/** What a regeneration will cost before it is submitted: the planned jobs' GPU-time estimates, summed, in words. */
import { EstimateBasis, type PlannedJob } from "@gen/regeneration_pb.js";

/** The jobs' estimated GPU time summed, and how many have no estimate (no past receipt like them). */
export function planEstimate(jobs: readonly PlannedJob[]): { estimatedGpuMs: number; withoutEstimate: number } {
  let estimatedGpuMs = 0;
  let withoutEstimate = 0;
  for (const j of jobs) {
    const e = j.gpuEstimate;
    if (!e || e.basis === EstimateBasis.NO_HISTORY || e.basis === EstimateBasis.UNSPECIFIED) withoutEstimate += 1;
    else estimatedGpuMs += Number(e.estimatedGpuMs);
  }
  return { estimatedGpuMs, withoutEstimate };
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}

/** "12 jobs, about 8 GPU-minutes", then "no history for K jobs" when some have no estimate. */
export function estimateLine(jobs: number, estimatedGpuMs: number, withoutEstimate: number): string {
  const minutes = Math.round(estimatedGpuMs / 60_000);
  const about = estimatedGpuMs <= 0 ? "no GPU-time estimate" : minutes === 0 ? "under a GPU-minute" : `about ${plural(minutes, "GPU-minute")}`;
  const none = withoutEstimate > 0 && estimatedGpuMs > 0 ? `; no history for ${plural(withoutEstimate, "job")}` : "";
  return `${plural(jobs, "job")}, ${about}${none}`;
}
