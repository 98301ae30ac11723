/** How the CLI says a GPU-time estimate. Pure. */

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}

/** "about 8 GPU-minutes", "under a GPU-minute", or "no GPU-time estimate" for 0 ms. */
export function gpuTime(estimatedGpuMs: bigint): string {
  if (estimatedGpuMs <= 0n) return "no GPU-time estimate";
  const minutes = Math.round(Number(estimatedGpuMs) / 60_000);
  return minutes === 0 ? "under a GPU-minute" : `about ${plural(minutes, "GPU-minute")}`;
}

/** "12 jobs, about 8 GPU-minutes", with ", no history for K jobs" when some have no estimate. */
export function estimateLine(jobs: number, estimatedGpuMs: bigint, jobsWithoutEstimate: number): string {
  const none = jobsWithoutEstimate > 0 && estimatedGpuMs > 0n ? `, no history for ${plural(jobsWithoutEstimate, "job")}` : "";
  return `${plural(jobs, "job")}, ${gpuTime(estimatedGpuMs)}${none}`;
}
