import { describe, expect, it } from "vitest";
import type { CurrentChange } from "../src/domain/detected-change.js";
import { oracleDetectedChanges, type AffectedInput, type OraclePin } from "./staleness-oracle.js";

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

describe("the detection oracle with pins", () => {
  const change: CurrentChange = {
    assetId: "lora",
    assetName: "anna_lora",
    kind: "LORA",
    previousVersion: 3,
    previousContentHash: "h3",
    currentVersion: 2,
    currentContentHash: "h2",
  };
  const pin = (acceptedVersion: number, extra: Partial<OraclePin> = {}): OraclePin => ({
    pinId: "pin",
    projectId: "p",
    sceneId: "s1",
    segmentIds: [],
    assetId: "lora",
    contentHash: "h1",
    acceptedVersion,
    unpinned: false,
    expiresAt: null,
    createdAt: new Date(0),
    ...extra,
  });
  const inputs: AffectedInput[] = [
    { projectId: "p", sceneId: "s1", segmentId: "a", contentHash: "h1", receiptVersion: 1 },
    { projectId: "p", sceneId: "s2", segmentId: "b", contentHash: "h1", receiptVersion: 1 },
  ];
  const now = new Date(1_000_000);

  it("a pin that accepted the change's current version holds its scene: not stale, made fresh by the return", () => {
    const [d] = oracleDetectedChanges(change, inputs, { pins: [pin(2)], now });
    expect(d).toMatchObject({ staleSegmentIds: ["b"], freshSegmentIds: ["a"] });
  });

  it("a pin of another accepted version, an expired one or an unpinned one holds nothing", () => {
    for (const p of [pin(3), pin(2, { expiresAt: now }), pin(2, { unpinned: true }), pin(2, { sceneId: null, segmentIds: ["b"] })]) {
      const [d] = oracleDetectedChanges(change, inputs, { pins: [p], now });
      expect(d!.staleSegmentIds).toEqual(p.segmentIds.includes("b") ? ["a"] : ["a", "b"]);
    }
  });
});
