import { describe, expect, it } from "vitest";
import { estimateLine, gpuTime } from "./estimate.js";

describe("GPU-time estimates", () => {
  it("says jobs and minutes in one line", () => {
    expect(estimateLine(12, 480_000n, 0)).toBe("12 jobs, about 8 GPU-minutes");
    expect(estimateLine(12, 480_000n, 3)).toBe("12 jobs, about 8 GPU-minutes, no history for 3 jobs");
    expect(estimateLine(1, 42_000n, 0)).toBe("1 job, about 1 GPU-minute");
    expect(estimateLine(2, 0n, 2)).toBe("2 jobs, no GPU-time estimate");
    expect(gpuTime(20_000n)).toBe("under a GPU-minute");
  });
});
