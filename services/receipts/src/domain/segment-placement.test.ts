import { describe, expect, it } from "vitest";
import { receiptDraft, storedSegment, thrownBy } from "../../test/receipt-fixtures.js";
import { checkSegmentPlacement } from "./segment-placement.js";

describe("a segment keeps its place", () => {
  const draft = receiptDraft({ segmentId: "s-1", sceneId: "scene-a", projectId: "p-a" });

  it("accepts a receipt for the segment where it is", () => {
    expect(() => checkSegmentPlacement(draft.segment, storedSegment(draft), "")).not.toThrow();
  });

  it("refuses to move it to another project or scene, naming the field", () => {
    const project = thrownBy(() => checkSegmentPlacement(draft.segment, storedSegment(draft, { projectId: "p-b" }), "receipts[1]."));
    expect(project.code).toBe("failed_precondition");
    expect(project.message).toBe('receipts[1].project_id: segment "s-1" belongs to another project; a segment cannot move to another project');
    expect(project.message).not.toContain("p-b");
    const scene = thrownBy(() => checkSegmentPlacement(draft.segment, storedSegment(draft, { sceneId: "scene-b" }), ""));
    expect(scene.code).toBe("failed_precondition");
    expect(scene.message).toMatch(/^scene_id: segment "s-1" belongs to scene "scene-b"/);
  });
});
