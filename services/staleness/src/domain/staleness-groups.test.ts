import { describe, expect, it } from "vitest";
import { reportGroups, summarySentence, type StaleGroupWithScenes } from "./staleness-groups.js";

describe("summarySentence", () => {
  it("reads like the product says, with singular forms", () => {
    expect(summarySentence({ affectedSegments: 12, affectedScenes: 3, assetName: "anna_lora", receiptVersion: 1, currentVersion: 2 })).toBe(
      "12 segments across 3 scenes used anna_lora v1 — you are on v2",
    );
    expect(summarySentence({ affectedSegments: 1, affectedScenes: 1, assetName: "clothed_v1.png", receiptVersion: 1, currentVersion: 3 })).toBe(
      "1 segment across 1 scene used clothed_v1.png v1 — you are on v3",
    );
    expect(summarySentence({ affectedSegments: 2, affectedScenes: 1, assetName: "m", receiptVersion: 0, currentVersion: 1 })).toBe(
      "2 segments across 1 scene used an unregistered version of m — you are on v1",
    );
  });
});

describe("reportGroups", () => {
  const row = (projectId: string, assetId: string, receiptVersion: number, segmentIds: string[], sceneIds: string[]): StaleGroupWithScenes => ({
    projectId,
    assetId,
    assetName: assetId,
    kind: "LORA",
    receiptVersion,
    currentVersion: 3,
    segmentIds,
    sceneIds,
  });

  it("drops a segment listed twice in a row, counts scenes, and totals distinct segments and (project, scene) pairs", () => {
    const out = reportGroups([
      row("p1", "lora", 1, ["a", "b", "b", "c"], ["s1", "s2"]),
      row("p1", "model", 2, ["b", "d"], ["s2", "s3"]),
      row("p2", "lora", 1, ["e"], ["s1"]),
    ]);
    expect(out.groups.map((g) => [g.projectId, g.assetId, g.segmentIds, g.affectedScenes])).toEqual([
      ["p1", "lora", ["a", "b", "c"], 2],
      ["p1", "model", ["b", "d"], 2],
      ["p2", "lora", ["e"], 1],
    ]);
    expect(out.totalStaleSegments).toBe(5);
    expect(out.totalStaleScenes).toBe(4);
  });

  it("orders each project's groups by size, keeping the given (asset, version) order for equal sizes and the projects' order", () => {
    const out = reportGroups([
      row("p2", "a", 1, ["x"], ["s"]),
      row("p2", "b", 1, ["y", "y", "z"], ["s"]),
      row("p1", "a", 1, ["u"], ["s"]),
      row("p1", "a", 2, ["v"], ["s"]),
      row("p1", "c", 1, ["v", "w"], ["s"]),
    ]);
    expect(out.groups.map((g) => `${g.projectId}/${g.assetId}/v${g.receiptVersion}`)).toEqual(["p2/b/v1", "p2/a/v1", "p1/c/v1", "p1/a/v1", "p1/a/v2"]);
  });

  it("reports nothing for no groups", () => {
    expect(reportGroups([])).toEqual({ groups: [], totalStaleSegments: 0, totalStaleScenes: 0 });
  });
});
