import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AssetKind, InputRole, ReceiptSchema, StaleSegmentSchema, computeInputsHash } from "@provenance/shared";
import { buildPlannedJob, inputsHashOf, inputsOfReceipt } from "./planned-job.js";

const sha = (label: string) => createHash("sha256").update(label).digest("hex");

const receipt = create(ReceiptSchema, {
  receiptId: "r-1",
  segmentId: "seg-1",
  sceneId: "scene-1",
  projectId: "p-1",
  characterName: "anna",
  sequenceIndex: 3,
  sourceImage: { assetId: "src", contentHash: sha("src"), version: 1 },
  variantImage: { assetId: "clothed", contentHash: sha("clothed v1"), version: 1 },
  workflow: { assetId: "wf", contentHash: sha("wf"), version: 2 },
  model: { assetId: "model", contentHash: sha("model"), version: 1 },
  loras: [
    { asset: { assetId: "lora-a", contentHash: sha("lora a v1"), version: 1 }, weight: 0.8 },
    { asset: { assetId: "lora-b", contentHash: sha("lora b v1"), version: 1 }, weight: 0.35 },
  ],
  workflowVersion: "i2v-3",
  promptText: "anna on the pier",
  negativePrompt: "blurry",
  cfgScale: 6.5,
  seed: 18446744073709551615n,
  steps: 28,
  sampler: "dpmpp_2m",
  resolutionWidth: 832,
  resolutionHeight: 480,
  additionalParams: { motion: { strength: 0.4 }, tags: ["a", "b"] },
});

function stale(...assets: [string, AssetKind, InputRole][]) {
  return create(StaleSegmentSchema, {
    segmentId: "seg-1",
    sceneId: "scene-1",
    projectId: "p-1",
    receiptId: "r-1",
    reasons: assets.map(([assetId, kind, role]) => ({ assetId, kind, role, assetName: `${assetId}.bin`, receiptVersion: 1, currentVersion: 2 })),
  });
}

describe("buildPlannedJob", () => {
  it("keeps every input and swaps only the stale LoRA, in place, with its weight", () => {
    const current = new Map([
      ["lora-b", { contentHash: sha("lora b v2"), version: 2 }],
      ["clothed", { contentHash: sha("clothed v9"), version: 9 }], // current but not a reason of this segment: untouched
    ]);
    const job = buildPlannedJob(stale(["lora-b", AssetKind.LORA, InputRole.LORA]), receipt, current)!;
    const expected = inputsOfReceipt(receipt);
    expected.loras[1]!.asset = { ...expected.loras[1]!.asset!, contentHash: sha("lora b v2"), version: 2 };
    expect(job.inputs).toEqual(expected);
    expect(job.inputs!.loras.map((l) => l.weight)).toEqual([0.8, 0.35]);
    expect(job.swapped).toHaveLength(1);
    expect(job.swapped[0]).toMatchObject({ assetId: "lora-b", currentVersion: 2, receiptContentHash: sha("lora b v1"), currentContentHash: sha("lora b v2") });
    expect(job).toMatchObject({ oldSegmentId: "seg-1", oldReceiptId: "r-1", sceneId: "scene-1", characterName: "anna", sequenceIndex: 3 });
  });

  it("carries the inputs hash the new receipt must have", () => {
    const job = buildPlannedJob(stale(["lora-a", AssetKind.LORA, InputRole.LORA]), receipt, new Map([["lora-a", { contentHash: sha("lora a v2"), version: 2 }]]))!;
    expect(job.expectedInputsHash).toBe(
      computeInputsHash({
        sourceImageHash: sha("src"),
        variantImageHash: sha("clothed v1"),
        workflowHash: sha("wf"),
        modelHash: sha("model"),
        loras: [
          { hash: sha("lora a v2"), weight: 0.8 },
          { hash: sha("lora b v1"), weight: 0.35 },
        ],
        promptText: "anna on the pier",
        negativePrompt: "blurry",
        cfgScale: 6.5,
        seed: 18446744073709551615n,
        steps: 28,
        sampler: "dpmpp_2m",
        width: 832,
        height: 480,
        params: { motion: { strength: 0.4 }, tags: ["a", "b"] },
      }),
    );
    expect(job.expectedInputsHash).not.toBe(inputsHashOf(inputsOfReceipt(receipt)));
  });

  it("swaps every stale input of the segment", () => {
    const job = buildPlannedJob(
      stale(["clothed", AssetKind.VARIANT_IMAGE, InputRole.VARIANT_IMAGE], ["model", AssetKind.MODEL, InputRole.MODEL]),
      receipt,
      new Map([
        ["clothed", { contentHash: sha("clothed v2"), version: 2 }],
        ["model", { contentHash: sha("model v2"), version: 2 }],
      ]),
    )!;
    expect(job.inputs!.variantImage!.contentHash).toBe(sha("clothed v2"));
    expect(job.inputs!.model!.contentHash).toBe(sha("model v2"));
    expect(job.inputs!.loras).toEqual(inputsOfReceipt(receipt).loras);
    expect(job.swapped.map((s) => s.assetId)).toEqual(["clothed", "model"]);
  });

  it("plans nothing when the asset is current again (e.g. rolled back since the report)", () => {
    const job = buildPlannedJob(stale(["lora-a", AssetKind.LORA, InputRole.LORA]), receipt, new Map([["lora-a", { contentHash: sha("lora a v1").toUpperCase(), version: 1 }]]));
    expect(job).toBeUndefined();
  });

  it("plans nothing when the asset is unknown to AssetService", () => {
    expect(buildPlannedJob(stale(["lora-a", AssetKind.LORA, InputRole.LORA]), receipt, new Map())).toBeUndefined();
  });
});
