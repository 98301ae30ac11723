// @vitest-environment jsdom
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AssetSchema } from "@gen/assets_pb.js";
import { AssetKind, InputRole, ReceiptSchema, ReceiptStatus, StalenessReasonSchema, type Receipt } from "@gen/common_pb.js";
import { AssetDirectoryContext } from "../api/asset-directory.js";
import { ReceiptFieldComparisonSchema } from "@gen/receipts_pb.js";
import { compareReceipts } from "../lib/receipt-fields.js";
import { fakeClients, inApp } from "../testing/fake-clients.js";
import { ReceiptComparison } from "./receipt-comparison.js";
import { ReceiptPanel } from "./receipt-panel.js";

const h = (c: string) => c.repeat(64);

type ReceiptInit = Exclude<MessageInitShape<typeof ReceiptSchema>, Receipt>;

function receipt(overrides: Partial<ReceiptInit> = {}): Receipt {
  return create(ReceiptSchema, {
    receiptId: "0b6f3e7c-9a55-4a70-a0a3-5a1e8f3f7d21",
    segmentId: "seg-7",
    sceneId: "scene-2",
    projectId: "proj-1",
    sourceImage: { assetId: "src-anna", contentHash: h("a"), version: 1 },
    variantImage: { assetId: "clothed-anna", contentHash: h("b"), version: 2 },
    workflow: { assetId: "wf-i2v", contentHash: h("c"), version: 3 },
    model: { assetId: "model-wan", contentHash: h("d"), version: 1 },
    loras: [
      { asset: { assetId: "lora-anna", contentHash: h("e"), version: 1 }, weight: 0.8 },
      { asset: { assetId: "lora-style", contentHash: h("f"), version: 4 }, weight: 0.35 },
    ],
    workflowVersion: "i2v-3",
    promptText: "anna walks along the pier at dusk",
    negativePrompt: "blurry, extra fingers",
    cfgScale: 6.5,
    seed: 18446744073000000001n,
    steps: 28,
    sampler: "dpmpp_2m",
    resolutionWidth: 832,
    resolutionHeight: 480,
    additionalParams: { motion_strength: 0.4, fps: 16 },
    inputsHash: h("1"),
    outputHash: h("2"),
    status: ReceiptStatus.SUCCEEDED,
    generationStartedAt: timestampFromDate(new Date("2026-11-21T10:00:00Z")),
    generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:01:12Z")),
    generationDurationMs: 72_000n,
    ...overrides,
  });
}

const directory = new Map(
  [
    ["lora-anna", "anna_lora", AssetKind.LORA],
    ["lora-style", "film_grain", AssetKind.LORA],
    ["src-anna", "anna_source.png", AssetKind.SOURCE_IMAGE],
    ["clothed-anna", "clothed_v1.png", AssetKind.VARIANT_IMAGE],
    ["wf-i2v", "wan_i2v.json", AssetKind.WORKFLOW],
    ["model-wan", "wan2.2", AssetKind.MODEL],
  ].map(([assetId, name, kind]) => [assetId as string, create(AssetSchema, { assetId: assetId as string, name: name as string, kind: kind as AssetKind })]),
);

function renderPanel(ui: React.ReactNode) {
  return render(
    <MemoryRouter>
      <AssetDirectoryContext.Provider value={directory}>{ui}</AssetDirectoryContext.Provider>
    </MemoryRouter>,
  );
}

afterEach(cleanup);

describe("ReceiptPanel", () => {
  it("shows every input in collapsible sections", () => {
    const { container } = renderPanel(<ReceiptPanel receipt={receipt()} />);
    const sections = [...container.querySelectorAll("details > summary")].map((s) => s.textContent);
    expect(sections).toEqual(["Images", "Workflow", "Model", "LoRAs (2)", "Prompt", "Sampling", "Other parameters (2)", "Timing and output"]);
    for (const text of ["anna walks along the pier at dusk", "blurry, extra fingers", "18446744073000000001", "6.5", "28", "dpmpp_2m", "832×480", "i2v-3", "0.35"]) {
      expect(screen.getAllByText(text).length).toBeGreaterThan(0);
    }
    expect(screen.getByText('"0.4"'.replace(/"/g, ""))).toBeTruthy();
    const details = container.querySelector("details")!;
    expect(details.open).toBe(true);
    fireEvent.click(details.querySelector("summary")!);
    expect(details.open).toBe(false);
  });

  it("links asset names to the asset and versions to the version, with a shortened hash and a copy button each", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    renderPanel(<ReceiptPanel receipt={receipt()} />);
    const lora = screen.getByRole("link", { name: "anna_lora" });
    expect(lora.getAttribute("href")).toBe("/assets/lora-anna");
    expect(screen.getAllByRole("link", { name: "v4" })[0]!.getAttribute("href")).toBe("/assets/lora-style/versions/4");
    expect(screen.getByText(`${h("e").slice(0, 8)}…${h("e").slice(-4)}`).getAttribute("title")).toBe(h("e"));
    // six asset hashes, output, inputs and the receipt id
    expect(screen.getAllByRole("button", { name: /^Copy / })).toHaveLength(9);
    fireEvent.click(screen.getByRole("button", { name: `Copy anna_lora hash ${h("e")}` }));
    await vi.waitFor(() => expect(writeText).toHaveBeenCalledWith(h("e")));
    await screen.findByText("Copied");
  });

  it("shows timing and output, and marks the input that made the segment stale", () => {
    const reason = create(StalenessReasonSchema, {
      kind: AssetKind.LORA,
      assetId: "lora-anna",
      assetName: "anna_lora",
      receiptVersion: 1,
      currentVersion: 2,
      role: InputRole.LORA,
      receiptContentHash: h("e"),
    });
    renderPanel(<ReceiptPanel receipt={receipt()} staleReasons={[reason]} />);
    expect(screen.getByText("1 min 12 s")).toBeTruthy();
    expect(screen.getByText("Succeeded")).toBeTruthy();
    expect(screen.getByRole("button", { name: `Copy output hash ${h("2")}` })).toBeTruthy();
    expect(screen.getByText("LoRA anna_lora: made with v1, current is v2")).toBeTruthy();
    expect(document.querySelectorAll(".asset-ref-stale")).toHaveLength(1);
  });

  it("says so when no LoRA was applied and no extra parameter was given", () => {
    renderPanel(<ReceiptPanel receipt={receipt({ loras: [], additionalParams: undefined })} />);
    expect(screen.getByText("No LoRAs were applied.")).toBeTruthy();
    expect(screen.getByText("None.")).toBeTruthy();
  });
});

describe("comparison with the superseded receipt", () => {
  const before = receipt();
  const after = receipt({
    receiptId: "new",
    loras: [
      { asset: { assetId: "lora-anna", contentHash: h("9"), version: 2 }, weight: 0.8 },
      { asset: { assetId: "lora-style", contentHash: h("f"), version: 4 }, weight: 0.35 },
    ],
    inputsHash: h("3"),
    outputHash: h("4"),
  });

  it("compares field by field and flags only what changed", () => {
    const rows = compareReceipts(before, after, new Map([["lora-anna", "anna_lora"]]));
    expect(rows.filter((r) => r.changed).map((r) => r.label)).toEqual(["LoRA 1", "Inputs hash", "Output hash"]);
    const lora = rows.find((r) => r.label === "LoRA 1")!;
    expect(lora.before).toContain("anna_lora v1");
    expect(lora.after).toContain("anna_lora v2");
    expect(rows.find((r) => r.label === "Seed")).toMatchObject({ changed: false, before: "18446744073000000001" });
  });

  it("renders CompareReceipts' fields with the changed rows marked and asset names for ids", async () => {
    const fields = compareReceipts(before, after).map((r) =>
      create(ReceiptFieldComparisonSchema, {
        field: r.label,
        label: r.label,
        left: r.before,
        right: r.after,
        changed: r.changed,
        ...(r.label === "LoRA 1"
          ? { role: InputRole.LORA, leftAsset: before.loras[0]!.asset, rightAsset: after.loras[0]!.asset, leftWeight: 0.8, rightWeight: 0.8 }
          : {}),
      }),
    );
    const asked: string[][] = [];
    const clients = fakeClients({
      receipts: {
        compareReceipts(req) {
          asked.push([req.leftReceiptId, req.rightReceiptId]);
          return { left: before, right: after, fields, changedFields: fields.filter((f) => f.changed).length };
        },
      },
    });
    render(inApp(<ReceiptComparison before={before} after={after} />, { clients, path: "/", route: "/", assets: [...directory.values()] }));
    expect(await screen.findByText(/3 of \d+ fields differ/)).toBeTruthy();
    expect(asked).toEqual([[before.receiptId, "new"]]);
    expect(screen.getByText(`anna_lora v2 · ${h("9")} · weight 0.8`)).toBeTruthy();
    const changed = document.querySelectorAll("tr[data-changed]");
    expect([...changed].map((r) => within(r as HTMLElement).getByRole("rowheader").textContent)).toEqual(["LoRA 1", "Inputs hash", "Output hash"]);
  });
});
