import { describe, expect, it } from "vitest";
import { newSegmentIdFor } from "./new-segment-id.js";

describe("newSegmentIdFor", () => {
  it("names the new segment after the one it replaces and the job", () => {
    expect(newSegmentIdFor("p1.s1-seg01", "7d7e4398-e4e7-4bfe-b58a-6d4e59bcd126")).toBe("p1.s1-seg01-r7d7e4398");
  });

  it("differs per job, and chains over repeated regenerations", () => {
    const a = newSegmentIdFor("seg", "aaaaaaaa-0000-4000-8000-000000000000");
    const b = newSegmentIdFor("seg", "bbbbbbbb-0000-4000-8000-000000000000");
    expect(a).not.toBe(b);
    expect(newSegmentIdFor(a, "cccccccc-0000-4000-8000-000000000000")).toBe("seg-raaaaaaaa-rcccccccc");
  });

  it("falls back to the job id when the name would exceed 200 characters", () => {
    const jobId = "dddddddd-0000-4000-8000-000000000000";
    expect(newSegmentIdFor("x".repeat(191), jobId)).toBe(jobId);
    expect(newSegmentIdFor("x".repeat(190), jobId)).toHaveLength(200);
  });
});
