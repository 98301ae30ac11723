// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ReceiptStatus, StaleSegmentSchema, AssetKind } from "@gen/common_pb.js";
import { ProjectSummarySchema, SegmentListingSchema, type ListSegmentsRequest, type SegmentListing } from "@gen/receipts_pb.js";
import { fakeClients, inApp } from "../testing/fake-clients.js";
import { ProjectView, ProjectsView } from "./projects-view.js";

function listing(segmentId: string, sceneId: string, sequenceIndex: number, opts: { projectId?: string; supersededBy?: string } = {}): SegmentListing {
  return create(SegmentListingSchema, {
    segment: {
      segmentId,
      sceneId,
      projectId: opts.projectId ?? "demo-1",
      characterName: segmentId.includes("ben") ? "ben" : "anna",
      sequenceIndex,
      active: !opts.supersededBy,
      supersededBySegmentId: opts.supersededBy ?? "",
    },
    currentReceiptId: `r-${segmentId}`,
    latestStatus: ReceiptStatus.SUCCEEDED,
    receiptCount: 1,
  });
}

// scene-1: three active shots (listed out of order) and two superseded ones; scene-2: two active.
const SEGMENTS = [
  listing("s1-anna-03", "scene-1", 2),
  listing("s1-anna-01", "scene-1", 0, { supersededBy: "s1-anna-01-r1" }),
  listing("s1-anna-01-r1", "scene-1", 0),
  listing("s1-ben-02", "scene-1", 1, { supersededBy: "s1-ben-02-r1" }),
  listing("s1-ben-02-r1", "scene-1", 1),
  listing("s2-anna-01", "scene-2", 0),
  listing("s2-ben-02", "scene-2", 1),
];
// A project whose every input names an unregistered asset: no asset usage would ever find it.
const UNTRACKED = [listing("reel-01", "scene-1", 0, { projectId: "untracked-reel" })];

const requests: ListSegmentsRequest[] = [];

/** ListSegments as the API defines it, paged two at a time; ListProjects one project a page. GetAssetUsage is left out. */
function clients() {
  return fakeClients({
    receipts: {
      listProjects(req) {
        const projects = [
          create(ProjectSummarySchema, { projectId: "demo-1", sceneCount: 2, activeSegmentCount: 5, supersededSegmentCount: 2 }),
          create(ProjectSummarySchema, { projectId: "untracked-reel", sceneCount: 1, activeSegmentCount: 1 }),
        ];
        const at = Number(req.pageToken || "0");
        return { projects: projects.slice(at, at + 1), nextPageToken: at + 1 < projects.length ? String(at + 1) : "" };
      },
      listSegments(req) {
        requests.push(req);
        const all = [...SEGMENTS, ...UNTRACKED].filter(
          (l) => l.segment!.projectId === req.projectId && (!req.sceneId || l.segment!.sceneId === req.sceneId) && (req.includeSuperseded || l.segment!.active),
        );
        const at = Number(req.pageToken || "0");
        return { segments: all.slice(at, at + 2), nextPageToken: at + 2 < all.length ? String(at + 2) : "" };
      },
    },
    staleness: {
      getStalenessReport: (req) => ({ projectId: req.projectId, untrackedInputs: req.projectId === "untracked-reel" ? 5 : 0 }),
    },
  });
}

const stale = [
  create(StaleSegmentSchema, {
    segmentId: "s1-anna-03",
    sceneId: "scene-1",
    projectId: "demo-1",
    sequenceIndex: 2,
    reasons: [{ kind: AssetKind.LORA, assetId: "anna_lora", assetName: "anna_lora", receiptVersion: 1, currentVersion: 2 }],
  }),
];

afterEach(() => {
  cleanup();
  requests.length = 0;
});

describe("ProjectsView", () => {
  it("counts active segments, names superseded ones apart, and lists projects from every page of ListProjects", async () => {
    render(inApp(<ProjectsView />, { clients: clients(), path: "/projects", route: "/projects", stale }));
    const demo = await screen.findByTestId("project-demo-1");
    expect(demo.textContent).toContain("2 scenes · 5 segments · 2 superseded");
    expect(demo.textContent).not.toContain("7 segments");
    expect(within(demo).getByRole("link", { name: "2 superseded" }).getAttribute("href")).toBe("/projects/demo-1?superseded=1");
    expect(within(demo).getByRole("link", { name: "1 stale segment" })).toBeTruthy();
    const reel = await screen.findByTestId("project-untracked-reel");
    expect(reel.textContent).toContain("1 scene · 1 segment");
    expect(reel.textContent).not.toContain("superseded");
  });
});

describe("ProjectView", () => {
  const rowsOf = (scene: string) =>
    within(screen.getByRole("table", { name: `Segments of ${scene}` }))
      .getAllByRole("row")
      .slice(1)
      .map((r) => [...r.querySelectorAll("td")].slice(0, 2).map((c) => c.textContent).join(" "));

  it("lists active segments in shot order counted from 1, superseded ones only behind the toggle", async () => {
    render(inApp(<ProjectView />, { clients: clients(), path: "/projects/demo-1", route: "/projects/:projectId", stale }));
    await screen.findByRole("table", { name: "Segments of scene-1" });
    expect(screen.getByTestId("project-counts").textContent).toBe("2 scenes · 5 segments · 2 superseded");
    expect(rowsOf("scene-1")).toEqual(["1 s1-anna-01-r1", "2 s1-ben-02-r1", "3 s1-anna-03"]);
    expect(rowsOf("scene-2")).toEqual(["1 s2-anna-01", "2 s2-ben-02"]);
    expect(screen.queryAllByText("Superseded")).toHaveLength(0);
    expect(screen.getAllByTestId("stale-icon")).toHaveLength(1);
    // every page was read, superseded ones included, so the toggle needs no second call
    expect(requests.map((r) => [r.projectId, r.includeSuperseded, r.pageToken])).toEqual([
      ["demo-1", true, ""],
      ["demo-1", true, "2"],
      ["demo-1", true, "4"],
      ["demo-1", true, "6"],
    ]);

    fireEvent.click(screen.getByRole("checkbox", { name: "Show 2 superseded segments" }));
    expect(rowsOf("scene-1")).toEqual(["1 s1-anna-01-r1", "2 s1-ben-02-r1", "3 s1-anna-03", "1 s1-anna-01", "2 s1-ben-02"]);
    expect(screen.getAllByText("Superseded")).toHaveLength(2);
    const replaced = screen.getByRole("link", { name: "s1-ben-02" }).closest("tr")!;
    expect(replaced.className).toBe("inactive");
    expect(within(replaced).getByRole("link", { name: "s1-ben-02-r1" }).getAttribute("href")).toBe("/segments/s1-ben-02-r1");
  });

  it("opens with superseded segments listed when the address asks for them", async () => {
    render(inApp(<ProjectView />, { clients: clients(), path: "/projects/demo-1?superseded=1", route: "/projects/:projectId" }));
    await screen.findByRole("table", { name: "Segments of scene-1" });
    expect((screen.getByRole("checkbox", { name: "Show 2 superseded segments" }) as HTMLInputElement).checked).toBe(true);
    expect(screen.getAllByText("Superseded")).toHaveLength(2);
  });

  it("shows a project whose inputs are all unregistered, says its inputs are untracked, and keeps its breadcrumb", async () => {
    render(inApp(<ProjectView />, { clients: clients(), path: "/projects/untracked-reel/scenes/scene-1", route: "/projects/:projectId/scenes/:sceneId" }));
    await screen.findByRole("link", { name: "reel-01" });
    expect(screen.queryByText(/has no recorded segments/)).toBeNull();
    expect(screen.getByRole("link", { name: "untracked-reel" }).getAttribute("href")).toBe("/projects/untracked-reel");
    expect(requests.at(-1)).toMatchObject({ projectId: "untracked-reel", sceneId: "scene-1" });
    cleanup();
    render(inApp(<ProjectView />, { clients: clients(), path: "/projects/untracked-reel", route: "/projects/:projectId" }));
    expect((await screen.findByTestId("untracked-note")).textContent).toContain("5 inputs of this project's segments name assets that are not registered");
    expect(screen.getByTestId("project-counts").textContent).toBe("1 scene · 1 segment");
  });

  it("says a project without segments has none, under its breadcrumb", async () => {
    render(inApp(<ProjectView />, { clients: clients(), path: "/projects/nope", route: "/projects/:projectId" }));
    await screen.findByText("Project nope has no recorded segments.");
    expect(screen.getByRole("link", { name: "Projects" }).getAttribute("href")).toBe("/projects");
  });
});
