// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { AssetKind, AssetStalenessSchema, StaleSegmentSchema } from "@gen/common_pb.js";
import { PinnedSegmentSchema, type PinSegmentsRequest, type UnpinSegmentsRequest } from "@gen/staleness_pb.js";
import { ClientsContext } from "../api/clients.js";
import { formatTime } from "../lib/format.js";
import { buildReportGroups } from "../lib/report-groups.js";
import { fakeClients } from "../testing/fake-clients.js";
import { PinnedSegments, pinChoices } from "./pinned-segments.js";

afterEach(cleanup);

const groups = buildReportGroups(
  [
    create(AssetStalenessSchema, { projectId: "p1", assetId: "lora-anna", assetName: "anna_lora", kind: AssetKind.LORA, receiptVersion: 1, currentVersion: 2, segmentIds: ["s1", "s2"] }),
    create(AssetStalenessSchema, { projectId: "p1", assetId: "lora-anna", assetName: "anna_lora", kind: AssetKind.LORA, receiptVersion: 0, currentVersion: 2, segmentIds: ["s9"] }),
  ],
  [
    create(StaleSegmentSchema, { segmentId: "s1", sceneId: "scene-1", projectId: "p1", sequenceIndex: 1 }),
    create(StaleSegmentSchema, { segmentId: "s2", sceneId: "scene-1", projectId: "p1", sequenceIndex: 2 }),
    create(StaleSegmentSchema, { segmentId: "s9", sceneId: "scene-9", projectId: "p1", sequenceIndex: 1 }),
  ],
);
const pinned = [
  create(PinnedSegmentSchema, {
    segmentId: "s5",
    sceneId: "scene-3",
    projectId: "p1",
    assetId: "lora-anna",
    assetName: "anna_lora",
    version: 1,
    currentVersion: 2,
    pinId: "pin_1",
    reason: "approved take",
    pinnedBy: "mia@example.com",
    expiresAt: timestampFromDate(new Date("2027-01-01T00:00:00Z")),
  }),
];

describe("Pinned segments in the report", () => {
  it("shows Pinned (N) with who, why and until, and Unpin ends that pin", async () => {
    const unpinned: UnpinSegmentsRequest[] = [];
    let changed = 0;
    const clients = fakeClients({ staleness: { unpinSegments: (req) => (unpinned.push(req), {}) } });
    render(
      <ClientsContext.Provider value={clients}>
        <PinnedSegments pinned={pinned} pinnedCount={1} groups={groups} onChanged={() => (changed += 1)} />
      </ClientsContext.Provider>,
    );
    expect(screen.getByRole("heading", { name: "Pinned (1)" })).toBeTruthy();
    const until = formatTime(pinned[0]!.expiresAt);
    expect(screen.getByTestId("pinned-row").textContent).toBe(`s5scene-3anna_lora v1 (current v2)mia@example.comapproved take${until}Unpin`);
    fireEvent.click(screen.getByRole("button", { name: "Unpin" }));
    await screen.findByRole("button", { name: "Unpin" });
    await new Promise((r) => setTimeout(r, 10));
    expect(unpinned).toMatchObject([{ projectId: "p1", pinId: "pin_1" }]);
    expect(changed).toBe(1);
  });

  it("pins a stale scene to the version its segments used, with the reason and expiry given", async () => {
    const asked: PinSegmentsRequest[] = [];
    let changed = 0;
    const clients = fakeClients({ staleness: { pinSegments: (req) => (asked.push(req), { pinnedSegments: 2, created: true }) } });
    render(
      <ClientsContext.Provider value={clients}>
        <PinnedSegments pinned={[]} pinnedCount={0} groups={groups} onChanged={() => (changed += 1)} />
      </ClientsContext.Provider>,
    );
    // A group of an unregistered version (v0) cannot be pinned.
    expect(pinChoices(groups).map((c) => c.sceneId)).toEqual(["scene-1"]);
    expect(screen.queryByRole("heading", { name: /Pinned/ })).toBeNull();
    fireEvent.change(screen.getByLabelText("Why"), { target: { value: "stays on v1 on purpose" } });
    fireEvent.change(screen.getByLabelText("Until"), { target: { value: "2027-01-01T00:00" } });
    fireEvent.click(screen.getByRole("button", { name: "Pin 2 segments" }));
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ projectId: "p1", sceneId: "scene-1", assetId: "lora-anna", version: 1, reason: "stays on v1 on purpose", segmentIds: [] });
    expect(asked[0]!.expiresAt).toBeDefined();
    expect(changed).toBe(1);
  });
});
