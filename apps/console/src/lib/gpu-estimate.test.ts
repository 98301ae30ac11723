import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { EstimateBasis, PlannedJobSchema } from "@gen/regeneration_pb.js";
import { estimateLine, planEstimate } from "./gpu-estimate.js";

const job = (ms: number | undefined, basis = EstimateBasis.SAME_SETTINGS) =>
  create(PlannedJobSchema, { gpuEstimate: ms === undefined ? undefined : { estimatedGpuMs: BigInt(ms), basis, sampleSize: 3 } });

describe("a plan's GPU-time estimate", () => {
  it("sums the jobs' estimates and counts the jobs with none", () => {
    expect(planEstimate([job(240_000), job(240_000), job(0, EstimateBasis.NO_HISTORY), job(undefined)])).toEqual({ estimatedGpuMs: 480_000, withoutEstimate: 2 });
  });

  it("says it as the dialog shows it", () => {
    expect(estimateLine(12, 480_000, 0)).toBe("12 jobs, about 8 GPU-minutes");
    expect(estimateLine(12, 480_000, 3)).toBe("12 jobs, about 8 GPU-minutes; no history for 3 jobs");
    expect(estimateLine(1, 10_000, 0)).toBe("1 job, under a GPU-minute");
    expect(estimateLine(2, 0, 2)).toBe("2 jobs, no GPU-time estimate");
  });
});
