import { describe, expect, it } from "vitest";
import { sameSelection, staleSelector, selectionFromDocument, selectionDocument, selectionOf } from "./selection.js";

const seg = (segmentId: string, sceneId: string, projectId = "p") => ({ segmentId, sceneId, projectId });

describe("selection", () => {
  it("narrows by segment ids and scene ids together, within the project", () => {
    const selection = selectionOf({ projectId: "p", segmentIds: ["a", "b"], sceneIds: ["s1"], assetId: "" });
    expect(staleSelector<ReturnType<typeof seg>>(selection)([seg("a", "s1"), seg("b", "s2"), seg("c", "s1"), seg("a", "s1", "q")]).map((s) => s.segmentId)).toEqual(["a"]);
  });

  it("counts a segment seen twice (e.g. while paging) once", () => {
    const selection = selectionOf({ projectId: "p", segmentIds: [], sceneIds: [], assetId: "" });
    const select = staleSelector<ReturnType<typeof seg>>(selection);
    expect(select([seg("a", "s1"), seg("b", "s1"), seg("a", "s1")]).map((s) => s.segmentId)).toEqual(["a", "b"]);
    // On a later page too: kept where first seen.
    expect(select([seg("c", "s1"), seg("a", "s1")]).map((s) => s.segmentId)).toEqual(["c"]);
  });

  it("compares normalised selections, also as stored", () => {
    const a = selectionOf({ projectId: "p", segmentIds: ["b", "a", "a"], sceneIds: [], assetId: "x" });
    const b = selectionOf({ projectId: "p", segmentIds: ["a", "b"], sceneIds: [], assetId: "x" });
    expect(sameSelection(a, b)).toBe(true);
    expect(sameSelection(a, selectionFromDocument(selectionDocument(b)))).toBe(true);
    expect(sameSelection(a, { ...b, assetId: "" })).toBe(false);
  });
});
