import { describe, expect, it } from "vitest";
import { DETECTION_ID_LIMIT } from "../persistence/statements.js";
import { MAX_EVENT_SEGMENT_IDS, detectedChange, detectedChangeOfCounts, type CurrentChange, type DetectionInput } from "./detected-change.js";

describe("detectedChange", () => {
  const change: CurrentChange = {
    assetId: "lora",
    assetName: "anna_lora",
    kind: "LORA",
    previousVersion: 1,
    previousContentHash: "h1",
    currentVersion: 2,
    currentContentHash: "h2",
  };
  const input = (segmentId: string, verdict: "stale" | "fresh" | "neither", receiptVersion = 1, sceneId = "s"): DetectionInput => ({
    sceneId,
    segmentId,
    receiptVersion,
    stale: verdict === "stale",
    fresh: verdict === "fresh",
  });

  it("takes the statement's verdicts as they are and builds one group per receipt version", () => {
    const d = detectedChange(change, "p", [input("b", "stale", 1, "s1"), input("a", "stale", 0, "s2"), input("c", "fresh", 2), input("d", "neither", 2)]);
    expect(d).toMatchObject({ projectId: "p", staleSegmentIds: ["a", "b"], freshSegmentIds: ["c"], totalStaleSegments: 2, totalStaleScenes: 2 });
    expect(d!.groups!.map((g) => [g.receiptVersion, g.segmentIds, g.summary])).toEqual([
      [0, ["a"], "1 segment across 1 scene used an unregistered version of anna_lora — you are on v2"],
      [1, ["b"], "1 segment across 1 scene used anna_lora v1 — you are on v2"],
    ]);
    expect(detectedChange(change, "p", [input("d", "neither")])).toBeUndefined();
  });

  it("cuts id lists at the event's bound and keeps the totals exact", () => {
    const many = Array.from({ length: MAX_EVENT_SEGMENT_IDS + 3 }, (_, n) => input(`seg-${String(n).padStart(5, "0")}`, "stale"));
    const d = detectedChange(change, "p", many)!;
    expect(d.staleSegmentIds).toHaveLength(MAX_EVENT_SEGMENT_IDS);
    expect(d.totalStaleSegments).toBe(MAX_EVENT_SEGMENT_IDS + 3);
    expect(d.groups![0]!.segmentIds).toHaveLength(MAX_EVENT_SEGMENT_IDS);
    expect(d.groups![0]!.affectedSegments).toBe(MAX_EVENT_SEGMENT_IDS + 3);
  });
});

describe("detectedChangeOfCounts", () => {
  const change: CurrentChange = {
    assetId: "lora",
    assetName: "anna_lora",
    kind: "LORA",
    previousVersion: 1,
    previousContentHash: "h1",
    currentVersion: 2,
    currentContentHash: "h2",
  };

  it("is the event detectedChange builds from the same verdicts, with the groups' exact counts", () => {
    const d = detectedChangeOfCounts(change, "p", {
      staleSegmentIds: ["a", "b"],
      freshSegmentIds: ["c"],
      totalStaleSegments: 7_002,
      totalStaleScenes: 2,
      groups: [
        { receiptVersion: 1, affectedSegments: 7_001, affectedScenes: 1, segmentIds: ["b"] },
        { receiptVersion: 0, affectedSegments: 1, affectedScenes: 1, segmentIds: ["a"] },
      ],
    });
    expect(d).toMatchObject({ projectId: "p", staleSegmentIds: ["a", "b"], freshSegmentIds: ["c"], totalStaleSegments: 7_002, totalStaleScenes: 2 });
    expect(d!.groups!.map((g) => [g.receiptVersion, g.segmentIds, g.affectedSegments, g.summary])).toEqual([
      [0, ["a"], 1, "1 segment across 1 scene used an unregistered version of anna_lora — you are on v2"],
      [1, ["b"], 7_001, "7001 segments across 1 scene used anna_lora v1 — you are on v2"],
    ]);
  });

  it("is undefined when nothing is stale and nothing made fresh", () => {
    expect(detectedChangeOfCounts(change, "p", { staleSegmentIds: [], freshSegmentIds: [], totalStaleSegments: 0, totalStaleScenes: 0, groups: [] })).toBeUndefined();
  });

  it("gets ids from the statement cut at the event's bound", () => {
    expect(DETECTION_ID_LIMIT).toBe(MAX_EVENT_SEGMENT_IDS);
  });
});
