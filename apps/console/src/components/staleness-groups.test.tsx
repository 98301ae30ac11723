// @vitest-environment jsdom
import { useState } from "react";
import { create } from "@bufbuild/protobuf";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { AssetKind, AssetStalenessSchema, StaleSegmentSchema, type StaleSegment } from "@gen/common_pb.js";
import { buildReportGroups, checkState, pruneSelection, selectionByProject, toggleIds } from "../lib/report-groups.js";
import { StalenessGroups } from "./staleness-groups.js";

function seg(segmentId: string, sceneId: string, sequenceIndex: number, projectId = "p1"): StaleSegment {
  return create(StaleSegmentSchema, {
    segmentId,
    sceneId,
    projectId,
    sequenceIndex,
    reasons: [{ kind: AssetKind.LORA, assetId: "lora-anna", assetName: "anna_lora", receiptVersion: 1, currentVersion: 2 }],
  });
}

const stale = [seg("s3", "scene-2", 3), seg("s1", "scene-1", 1), seg("s2", "scene-1", 2), seg("s4", "scene-10", 1), seg("q1", "scene-1", 1, "p2")];
const byAsset = [
  create(AssetStalenessSchema, {
    projectId: "p1",
    assetId: "lora-anna",
    assetName: "anna_lora",
    kind: AssetKind.LORA,
    receiptVersion: 1,
    currentVersion: 2,
    affectedSegments: 4,
    affectedScenes: 3,
    segmentIds: ["s3", "s1", "s2", "s4"],
    summary: "4 segments across 3 scenes used anna_lora v1 — you are on v2",
  }),
  create(AssetStalenessSchema, {
    projectId: "p1",
    assetId: "clothed",
    assetName: "clothed_v1.png",
    kind: AssetKind.VARIANT_IMAGE,
    receiptVersion: 1,
    currentVersion: 3,
    segmentIds: ["s2"],
    summary: "1 segment across 1 scene used clothed_v1.png v1 — you are on v3",
  }),
  create(AssetStalenessSchema, {
    projectId: "p2",
    assetId: "lora-anna",
    assetName: "anna_lora",
    kind: AssetKind.LORA,
    receiptVersion: 1,
    currentVersion: 2,
    segmentIds: ["q1"],
    summary: "1 segment across 1 scene used anna_lora v1 — you are on v2",
  }),
];

afterEach(cleanup);

describe("report grouping", () => {
  it("groups by asset version, orders scenes naturally and segments by sequence", () => {
    const groups = buildReportGroups(byAsset, stale);
    expect(groups.map((g) => g.key)).toEqual(["p1/lora-anna/v1", "p1/clothed/v1", "p2/lora-anna/v1"]);
    expect(groups[0]!.scenes.map((s) => s.sceneId)).toEqual(["scene-1", "scene-2", "scene-10"]);
    expect(groups[0]!.segmentIds).toEqual(["s1", "s2", "s3", "s4"]);
  });

  it("selects by group, scene and segment, and splits the selection by project", () => {
    const groups = buildReportGroups(byAsset, stale);
    let sel = toggleIds(new Set(), groups[0]!.segmentIds);
    expect(checkState(groups[0]!.segmentIds, sel)).toBe("all");
    expect(checkState(groups[1]!.segmentIds, sel)).toBe("all"); // s2 is in both groups
    sel = toggleIds(sel, ["s3"]);
    expect(checkState(groups[0]!.segmentIds, sel)).toBe("some");
    sel = toggleIds(sel, groups[0]!.segmentIds); // partial → all
    expect(checkState(groups[0]!.segmentIds, sel)).toBe("all");
    sel = toggleIds(sel, groups[2]!.segmentIds);
    expect(Object.fromEntries(selectionByProject(sel, groups))).toEqual({ p1: ["s1", "s2", "s3", "s4"], p2: ["q1"] });
    expect([...pruneSelection(sel, groups.slice(1))].sort()).toEqual(["q1", "s2"]);
  });
});

function Harness() {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  return (
    <MemoryRouter>
      <StalenessGroups groups={buildReportGroups(byAsset, stale)} selected={selected} onChange={setSelected} />
      <output data-testid="selected">{[...selected].sort().join(",")}</output>
    </MemoryRouter>
  );
}

describe("StalenessGroups", () => {
  it("shows each group's summary, versions and segments with the stale icon", () => {
    render(<Harness />);
    expect(screen.getByText("4 segments across 3 scenes used anna_lora v1 — you are on v2")).toBeTruthy();
    expect(screen.getAllByTestId("stale-icon")).toHaveLength(6);
    expect(screen.getAllByTestId("stale-icon")[0]!.getAttribute("title")).toBe("Stale — LoRA anna_lora: made with v1, current is v2");
    expect(screen.getAllByRole("link", { name: "s1" })[0]!.getAttribute("href")).toBe("/segments/s1");
  });

  it("numbers each segment's shot from 1 (sequence_index 0 is shot 1)", () => {
    render(
      <MemoryRouter>
        <StalenessGroups groups={buildReportGroups(byAsset.slice(2), [create(StaleSegmentSchema, { ...stale[4]!, sequenceIndex: 0, characterName: "ben" })])} selected={new Set()} onChange={() => undefined} />
      </MemoryRouter>,
    );
    expect(screen.getByRole("link", { name: "q1" }).nextElementSibling!.textContent).toBe("ben · shot 1");
  });

  it("checks a group, a scene or a segment, with partial groups shown indeterminate", () => {
    render(<Harness />);
    const selected = () => screen.getByTestId("selected").textContent;
    const group = screen.getByRole("checkbox", { name: /^Select every segment of 4 segments/ }) as HTMLInputElement;
    fireEvent.click(group);
    expect(selected()).toBe("s1,s2,s3,s4");
    expect((screen.getByRole("checkbox", { name: /^Select every segment of 1 segment across 1 scene used clothed/ }) as HTMLInputElement).checked).toBe(true);
    fireEvent.click(screen.getAllByRole("checkbox", { name: "Select segment s3" })[0]!);
    expect(selected()).toBe("s1,s2,s4");
    expect(group.checked).toBe(false);
    expect(group.indeterminate).toBe(true);
    fireEvent.click(screen.getByRole("checkbox", { name: "Select scene scene-1 of project p1 in anna_lora v1" }));
    expect(selected()).toBe("s4"); // scene-1 was fully selected: unchecking it clears s1, s2
    fireEvent.click(screen.getByRole("checkbox", { name: /^Select every segment of 1 segment across 1 scene used anna_lora/ }));
    expect(selected()).toBe("q1,s4");
  });
});
