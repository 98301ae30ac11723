import { describe, expect, it } from "vitest";
import type { CurrentChange } from "../src/domain/detected-change.js";
import { oracleDetectedChanges, type AffectedInput } from "./staleness-oracle.js";

/** The TypeScript statement of the rule for detection, with the message the service's domain builds from its verdicts. */
describe("the detection oracle (oracleDetectedChanges)", () => {
  const change: CurrentChange = {
    assetId: "lora",
    assetName: "anna_lora",
    kind: "LORA",
    previousVersion: 1,
    previousContentHash: "h1",
    currentVersion: 2,
    currentContentHash: "h2",
  };
  const input = (projectId: string, sceneId: string, segmentId: string, contentHash: string, receiptVersion: number): AffectedInput => ({
    projectId,
    sceneId,
    segmentId,
    contentHash,
    receiptVersion,
  });

  it("groups stale segments per project and receipt version, and names those made fresh", () => {
    const out = oracleDetectedChanges(change, [
      input("p1", "s1", "a", "h1", 1),
      input("p1", "s2", "b", "h1", 1),
      input("p1", "s2", "c", "h0", 0),
      input("p1", "s3", "d", "h2", 2),
      input("p2", "s1", "e", "h2", 2),
    ]);
    expect(out.map((d) => d.projectId)).toEqual(["p1", "p2"]);
    expect(out[0]).toMatchObject({ staleSegmentIds: ["a", "b", "c"], freshSegmentIds: ["d"], totalStaleSegments: 3, totalStaleScenes: 2 });
    expect(out[0]!.groups!.map((g) => [g.receiptVersion, g.affectedSegments, g.affectedScenes])).toEqual([
      [0, 1, 1],
      [1, 2, 2],
    ]);
    expect(out[1]).toMatchObject({ staleSegmentIds: [], freshSegmentIds: ["e"], totalStaleSegments: 0 });
  });

  it("counts a segment that used the asset twice once", () => {
    const [d] = oracleDetectedChanges(change, [input("p", "s", "a", "h1", 1), input("p", "s", "a", "h1", 1)]);
    expect(d!.staleSegmentIds).toEqual(["a"]);
    expect(d!.groups![0]!.affectedSegments).toBe(1);
  });

  it("reports nothing when no active segment used the asset", () => {
    expect(oracleDetectedChanges(change, [])).toEqual([]);
  });
});
