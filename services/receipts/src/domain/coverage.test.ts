import { describe, expect, it } from "vitest";
import { completePercent, coverageReport, type CoverageCounts } from "./coverage.js";

const counts = (projectId: string, c: Partial<CoverageCounts>): CoverageCounts => ({
  projectId,
  segments: 0,
  complete: 0,
  legacy: 0,
  running: 0,
  runningTooLong: 0,
  failed: 0,
  ...c,
});

describe("coverage", () => {
  it("is 100% with no segments, complete / segments otherwise", () => {
    expect(completePercent(0, 0)).toBe(100);
    expect(completePercent(3, 4)).toBe(75);
    expect(completePercent(1, 3)).toBeCloseTo(33.333, 3);
  });

  it("adds the projects up into the total and orders them by project id", () => {
    const r = coverageReport([
      counts("p2", { segments: 4, complete: 1, legacy: 1, running: 1, runningTooLong: 1 }),
      counts("p1", { segments: 2, complete: 1, failed: 1 }),
    ]);
    expect(r.projects.map((p) => [p.projectId, p.completePercent])).toEqual([["p1", 50], ["p2", 25]]);
    expect(r.total).toEqual({ projectId: "", segments: 6, complete: 2, legacy: 1, running: 1, runningTooLong: 1, failed: 1, completePercent: (2 / 6) * 100 });
    expect(coverageReport([]).total).toMatchObject({ segments: 0, completePercent: 100 });
  });
});
