// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { AssetSchema } from "@gen/assets_pb.js";
import { AssetKind, ReceiptSchema, ReceiptStatus, SegmentSchema } from "@gen/common_pb.js";
import { fakeClients, inApp } from "../testing/fake-clients.js";
import { SegmentView } from "./segment-view.js";

const h = (c: string) => c.repeat(64);

// As the demo records them: sequence_index is 0-based, the prompt counts shots from 1.
function clients(sequenceIndex: number) {
  const receipt = create(ReceiptSchema, {
    receiptId: "r-1",
    segmentId: "demo.s2-seg01",
    sceneId: "demo.scene-2",
    projectId: "demo",
    sourceImage: { assetId: "unregistered-source", contentHash: h("a") },
    workflow: { assetId: "wf", contentHash: h("c"), version: 1 },
    promptText: `anna walks along the pier at dusk, shot ${sequenceIndex + 1} of scene 2`,
    status: ReceiptStatus.SUCCEEDED,
  });
  return fakeClients({
    receipts: {
      getSegmentProvenance: () => ({
        segment: create(SegmentSchema, { segmentId: "demo.s2-seg01", sceneId: "demo.scene-2", projectId: "demo", characterName: "anna", sequenceIndex, active: true }),
        currentReceipt: receipt,
        history: [receipt],
      }),
    },
  });
}

afterEach(cleanup);

describe("SegmentView", () => {
  it("numbers the shot as its prompt does (sequence_index 0 is shot 1)", async () => {
    render(inApp(<SegmentView />, { clients: clients(0), path: "/segments/demo.s2-seg01", route: "/segments/:segmentId", assets: [] }));
    expect((await screen.findByTestId("segment-shot")).textContent).toBe("shot 1");
    expect(screen.getByText("anna walks along the pier at dusk, shot 1 of scene 2")).toBeTruthy();
    cleanup();
    render(inApp(<SegmentView />, { clients: clients(11), path: "/segments/demo.s2-seg01", route: "/segments/:segmentId", assets: [] }));
    expect((await screen.findByTestId("segment-shot")).textContent).toBe("shot 12");
  });

  it("shows inputs whose assets are unregistered as untracked, without links to asset pages that do not exist", async () => {
    const wf = create(AssetSchema, { assetId: "wf", name: "i2v_pier_walk.json", kind: AssetKind.WORKFLOW });
    render(inApp(<SegmentView />, { clients: clients(0), path: "/segments/demo.s2-seg01", route: "/segments/:segmentId", assets: [wf] }));
    const row = (await screen.findByText("Source image", { selector: "dt" })).closest(".field-row") as HTMLElement;
    expect(within(row).getByText("Untracked")).toBeTruthy();
    expect(within(row).queryByRole("link")).toBeNull();
    expect(within(row).getByText("unregistered-source")).toBeTruthy();
    const workflow = screen.getByText("Workflow", { selector: "dt" }).closest(".field-row") as HTMLElement;
    expect(within(workflow).queryByText("Untracked")).toBeNull();
    expect(within(workflow).getByRole("link", { name: "i2v_pier_walk.json" }).getAttribute("href")).toBe("/assets/wf");
    // the breadcrumb leads to the project and scene, which list it (ListSegments, not asset usage)
    expect(screen.getByRole("link", { name: "demo" }).getAttribute("href")).toBe("/projects/demo");
    expect(screen.getByRole("link", { name: "demo.scene-2" }).getAttribute("href")).toBe("/projects/demo/scenes/demo.scene-2");
  });

  it("calls no input untracked before the asset directory has loaded, and every one once it has loaded empty", async () => {
    render(inApp(<SegmentView />, { clients: clients(0), path: "/segments/demo.s2-seg01", route: "/segments/:segmentId" }));
    await screen.findByTestId("segment-shot");
    expect(screen.queryAllByText("Untracked")).toHaveLength(0);
    cleanup();
    render(inApp(<SegmentView />, { clients: clients(0), path: "/segments/demo.s2-seg01", route: "/segments/:segmentId", assets: [] }));
    await screen.findByTestId("segment-shot");
    expect(screen.getAllByText("Untracked")).toHaveLength(2);
  });
});
