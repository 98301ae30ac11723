// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { AssetSchema, AssetVersionSchema } from "@gen/assets_pb.js";
import { AssetKind, InputRole, ReceiptStatus, StaleSegmentSchema } from "@gen/common_pb.js";
import { AssetUsageSchema, SegmentListingSchema, type AssetUsage } from "@gen/receipts_pb.js";
import { rollbackImpact } from "../lib/rollback-impact.js";
import { fakeClients, inApp } from "../testing/fake-clients.js";
import { AssetView } from "./asset-view.js";

const V1 = "a".repeat(64);
const V2 = "b".repeat(64);
const at = (minute: number) => timestampFromDate(new Date(Date.UTC(2026, 10, 21, 10, minute)));

function usage(segmentId: string, receiptId: string, hash: string, opts: { active?: boolean; minute?: number; status?: ReceiptStatus } = {}): AssetUsage {
  return create(AssetUsageSchema, {
    segmentId,
    sceneId: "demo-20261201102233.scene-1",
    projectId: "demo-20261201102233",
    receiptId,
    role: InputRole.LORA,
    version: hash === V1 ? 1 : 2,
    contentHash: hash,
    weight: 0.8,
    status: opts.status ?? ReceiptStatus.SUCCEEDED,
    segmentActive: opts.active ?? true,
    generationStartedAt: at(opts.minute ?? 0),
  });
}

// anna_lora v1 → v2, then a regeneration: what a rollback to v1 does depends on each active segment's CURRENT receipt.
const USAGES = [
  usage("old-1", "r-old-1", V1, { active: false }), // superseded by new-1
  usage("old-2", "r-old-2", V1, { active: false }), // superseded by new-2
  usage("new-1", "r-new-1", V2, { minute: 5 }),
  usage("new-2", "r-new-2", V2, { minute: 5 }),
  usage("kept-a", "r-kept-a-first", V1, { status: ReceiptStatus.FAILED }), // a failed first try ...
  usage("kept-a", "r-kept-a", V1, { minute: 1 }), // ... then never regenerated: stale now, fresh after the rollback
  usage("kept-b", "r-kept-b", V1), // the same, but also stale because of another asset
  usage("retry", "r-retry-old", V1, { minute: 1 }), // an older success with v1 ...
  usage("retry", "r-retry", V2, { minute: 6 }), // ... and its current receipt with v2
  usage("failed", "r-failed-ok", V2, { minute: 2 }), // the current receipt used v2 ...
  usage("failed", "r-failed-late", V1, { minute: 7, status: ReceiptStatus.FAILED }), // ... a later failed try used v1
];
const CURRENT = new Map([
  ["new-1", "r-new-1"],
  ["new-2", "r-new-2"],
  ["kept-a", "r-kept-a"],
  ["kept-b", "r-kept-b"],
  ["retry", "r-retry"],
  ["failed", "r-failed-ok"],
]);
const reason = (assetId: string) => ({ kind: AssetKind.LORA, assetId, assetName: assetId, receiptVersion: 1, currentVersion: 2 });
const STALE = [
  create(StaleSegmentSchema, { segmentId: "kept-a", projectId: "demo-20261201102233", reasons: [reason("lora-anna")] }),
  create(StaleSegmentSchema, { segmentId: "kept-b", projectId: "demo-20261201102233", reasons: [reason("lora-anna"), reason("clothed-anna")] }),
];

function services() {
  const calls = { setCurrent: [] as number[] };
  let current = 2;
  const clients = fakeClients({
    assets: {
      getAsset: () => ({ asset: create(AssetSchema, { assetId: "lora-anna", kind: AssetKind.LORA, name: "anna_lora", currentVersion: current, versionCount: 2 }) }),
      listVersions: () => ({
        versions: [2, 1].map((v) =>
          create(AssetVersionSchema, { assetId: "lora-anna", version: v, contentHash: v === 1 ? V1 : V2, isCurrent: v === current, previousVersion: v - 1, createdAt: at(v) }),
        ),
      }),
      setCurrentVersion: (req) => {
        calls.setCurrent.push(req.version);
        const previousVersion = current;
        current = req.version;
        return { previousVersion };
      },
    },
    receipts: {
      getAssetUsage: (req) => ({ usages: USAGES.filter((u) => !req.version || u.version === req.version) }),
      listSegments: (req) => ({
        segments: [...CURRENT].map(([segmentId, currentReceiptId]) =>
          create(SegmentListingSchema, { segment: { segmentId, projectId: req.projectId, active: true }, currentReceiptId, latestStatus: ReceiptStatus.SUCCEEDED }),
        ),
      }),
    },
  });
  return { clients, calls };
}

afterEach(cleanup);

describe("rollbackImpact", () => {
  it("reads each active segment's current receipt: fresh again, newly stale, superseded untouched", () => {
    const impact = rollbackImpact({
      assetId: "lora-anna",
      targetHash: V1,
      currentHash: V2,
      usages: USAGES,
      currentReceipts: CURRENT,
      staleReasons: new Map(STALE.map((s) => [s.segmentId, s.reasons])),
    });
    expect(impact).toEqual({ freshAgain: ["kept-a", "kept-b"], freshAgainStillStale: 1, becomeStale: ["failed", "new-1", "new-2", "retry"], stayStale: [], superseded: 2 });
  });

  it("counts segments made from a third version as staying stale", () => {
    const V3 = "c".repeat(64);
    const impact = rollbackImpact({ assetId: "x", targetHash: V1, currentHash: V3, usages: USAGES, currentReceipts: CURRENT, staleReasons: new Map() });
    expect(impact.freshAgain).toEqual(["kept-a", "kept-b"]);
    expect(impact.becomeStale).toEqual([]);
    expect(impact.stayStale).toEqual(["failed", "new-1", "new-2", "retry"]);
  });
});

describe("AssetView", () => {
  it("lists a version's active segments once each, the superseded ones behind a row, ids in cells that wrap", async () => {
    const { clients } = services();
    render(inApp(<AssetView />, { clients, path: "/assets/lora-anna/versions/1", route: "/assets/:assetId/versions/:version", stale: STALE }));
    const table = await screen.findByRole("table", { name: "Segments that used v1" });
    const ids = () => within(table).queryAllByRole("link", { name: /^(old|new|kept|retry|failed)/ }).map((a) => a.textContent);
    expect(ids()).toEqual(["kept-a", "kept-b", "retry", "failed"]);
    expect(screen.getByTestId("usage-counts").textContent).toBe("4 active segments · 2 superseded");
    // kept-a used v1 in two receipts (a failed try, then a success): one row, showing the newest
    const keptA = within(table).getByRole("link", { name: "kept-a" }).closest("tr")!;
    expect(within(keptA).getByText("in 2 receipts")).toBeTruthy();
    expect([keptA.querySelector(".badge-stale"), keptA.querySelector(".badge-failed")].map(Boolean)).toEqual([true, false]); // the newest receipt (a success), not the failed try
    expect(within(table).getAllByText(/^in \d+ receipts$/)).toHaveLength(1);
    fireEvent.click(within(table).getByRole("button", { name: "Show 2 superseded segments" }));
    expect(ids()).toEqual(["kept-a", "kept-b", "retry", "failed", "old-1", "old-2"]);
    expect(within(table).getAllByText("Superseded")).toHaveLength(2);
    expect(within(table).getAllByRole("cell")[0]!.className).toBe("id-cell");
  });

  it("says in the rollback dialog what will happen, with counts, and never that superseded segments come back", async () => {
    const { clients, calls } = services();
    render(inApp(<AssetView />, { clients, path: "/assets/lora-anna", route: "/assets/:assetId", stale: STALE }));
    fireEvent.click(await screen.findByRole("button", { name: "Roll back to v1" }));
    const dialog = screen.getByRole("dialog", { name: "Confirm version change" });
    expect(within(dialog).getByRole("heading").textContent).toBe("Roll back: make v1 of anna_lora current?");
    await within(dialog).findByTestId("version-change-impact");
    expect(within(dialog).getByTestId("impact-fresh").textContent).toBe("2 segments made from v1 become fresh again (1 of them still stale because of other inputs).");
    expect(within(dialog).getByTestId("impact-stale").textContent).toBe("4 segments made from v2 become stale and show up in the staleness report.");
    expect(within(dialog).getByTestId("impact-superseded").textContent).toContain("2 superseded segments that used anna_lora stay superseded");
    expect(dialog.textContent).not.toMatch(/current again/);
    fireEvent.click(within(dialog).getByRole("button", { name: "Make v1 current" }));
    await screen.findByText("v1 is now current (was v2).");
    expect(calls.setCurrent).toEqual([1]);
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("still says what happens, without counts, when they cannot be loaded", async () => {
    const { clients } = services();
    const broken = { ...clients, receipts: { ...clients.receipts, listSegments: () => Promise.reject(new Error("down")) } } as typeof clients;
    render(inApp(<AssetView />, { clients: broken, path: "/assets/lora-anna", route: "/assets/:assetId" }));
    fireEvent.click(await screen.findByRole("button", { name: "Roll back to v1" }));
    const dialog = screen.getByRole("dialog", { name: "Confirm version change" });
    await within(dialog).findByText("The affected segments could not be counted.");
    expect(dialog.textContent).toContain("Superseded segments stay superseded.");
    expect(within(dialog).queryByTestId("version-change-impact")).toBeNull();
  });
});
