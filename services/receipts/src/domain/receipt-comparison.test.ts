import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { InputRole, ReceiptSchema, type Receipt } from "@provenance/shared";
import { sha } from "../../test/receipt-fixtures.js";
import { compareReceipts } from "./receipt-comparison.js";

type ReceiptInit = Exclude<MessageInitShape<typeof ReceiptSchema>, Receipt>;

function receipt(overrides: Partial<ReceiptInit> = {}): Receipt {
  return create(ReceiptSchema, {
    receiptId: "r",
    sourceImage: { assetId: "src-anna", contentHash: sha("src"), version: 1 },
    variantImage: { assetId: "clothed-anna", contentHash: sha("clothed v1"), version: 1 },
    workflow: { assetId: "wf-i2v", contentHash: sha("wf"), version: 3 },
    model: { assetId: "model-wan", contentHash: sha("model"), version: 1 },
    loras: [{ asset: { assetId: "lora-anna", contentHash: sha("lora v1"), version: 1 }, weight: 0.8 }],
    workflowVersion: "i2v-3",
    promptText: "anna walks",
    negativePrompt: "",
    cfgScale: 6.5,
    seed: 42n,
    steps: 30,
    sampler: "euler",
    resolutionWidth: 832,
    resolutionHeight: 480,
    additionalParams: { fps: 16, motion: "slow" },
    inputsHash: sha("inputs"),
    outputHash: sha("output"),
    ...overrides,
  });
}

describe("comparing two receipts", () => {
  it("lists every field in the fixed order, none changed for equal receipts", () => {
    const { fields, changedFields } = compareReceipts(receipt(), receipt());
    expect(fields.map((f) => f.field)).toEqual([
      "source_image", "variant_image", "workflow", "model", "loras[0]", "workflow_version", "prompt_text", "negative_prompt",
      "cfg_scale", "seed", "steps", "sampler", "resolution_width", "resolution_height", "additional_params.fps",
      "additional_params.motion", "inputs_hash", "output_hash",
    ]);
    expect(changedFields).toBe(0);
    expect(fields.every((f) => !f.changed && f.changedParts.length === 0)).toBe(true);
    const lora = fields.find((f) => f.field === "loras[0]")!;
    expect(lora).toMatchObject({ label: "LoRA 1", role: InputRole.LORA, position: 0, left: `lora-anna v1 ${sha("lora v1")} weight 0.8`, leftWeight: 0.8 });
    expect(fields.find((f) => f.field === "additional_params.motion")).toMatchObject({ label: "Parameter motion", left: '"slow"' });
    expect(fields.find((f) => f.field === "cfg_scale")).toMatchObject({ label: "CFG", left: "6.5", right: "6.5" });
  });

  it("names the differing parts of an input, and a LoRA present on one side only", () => {
    const right = receipt({
      variantImage: { assetId: "clothed-anna", contentHash: sha("clothed v2"), version: 2 },
      loras: [
        { asset: { assetId: "lora-anna", contentHash: sha("lora v1"), version: 1 }, weight: 0.6 },
        { asset: { assetId: "lora-style", contentHash: sha("style"), version: 0 }, weight: 1 },
      ],
    });
    const { fields, changedFields } = compareReceipts(receipt(), right);
    const byField = new Map(fields.map((f) => [f.field, f]));
    expect(byField.get("variant_image")).toMatchObject({ changed: true, changedParts: ["version", "content_hash"], role: InputRole.VARIANT_IMAGE });
    expect(byField.get("variant_image")!.rightAsset).toMatchObject({ version: 2, contentHash: sha("clothed v2") });
    expect(byField.get("loras[0]")).toMatchObject({ changed: true, changedParts: ["weight"], leftWeight: 0.8, rightWeight: 0.6 });
    expect(byField.get("loras[1]")).toMatchObject({
      label: "LoRA 2",
      position: 1,
      left: "",
      right: `lora-style ${sha("style")} weight 1`,
      changed: true,
      changedParts: ["asset_id", "content_hash", "weight"],
    });
    expect(byField.get("loras[1]")!.leftAsset).toBeUndefined();
    expect(changedFields).toBe(3);
  });

  it("compares prompts, parameters and each additional_params key, with a key on one side only", () => {
    const right = receipt({ promptText: "anna runs", seed: 43n, additionalParams: { fps: 24, denoise: 0.5 }, outputHash: "" });
    const { fields, changedFields } = compareReceipts(receipt(), right);
    const changed = fields.filter((f) => f.changed).map((f) => [f.field, f.left, f.right]);
    expect(changed).toEqual([
      ["prompt_text", "anna walks", "anna runs"],
      ["seed", "42", "43"],
      ["additional_params.denoise", "", "0.5"],
      ["additional_params.fps", "16", "24"],
      ["additional_params.motion", '"slow"', ""],
      ["output_hash", sha("output"), ""],
    ]);
    expect(changedFields).toBe(6);
  });

  it("shows what a LEGACY receipt does not know as unknown", () => {
    const legacy = receipt({
      variantImage: undefined,
      loras: [],
      seed: 0n,
      inputsHash: "",
      model: { assetId: "model-wan", contentHash: "", version: 1 },
      additionalParams: {},
      missingFields: ["variant_image", "loras", "seed", "model.content_hash", "additional_params", "inputs_hash"],
    });
    const { fields } = compareReceipts(legacy, receipt());
    const byField = new Map(fields.map((f) => [f.field, f]));
    expect(byField.get("variant_image")).toMatchObject({ left: "unknown", changed: true });
    expect(byField.get("loras[0]")).toMatchObject({ left: "unknown", changed: true });
    expect(byField.get("model")).toMatchObject({ left: "model-wan v1 unknown", changed: true, changedParts: ["content_hash"] });
    expect(byField.get("seed")).toMatchObject({ left: "unknown", right: "42" });
    expect(byField.get("additional_params.fps")).toMatchObject({ left: "unknown", right: "16" });
    expect(byField.get("inputs_hash")).toMatchObject({ left: "unknown", changed: true });
    expect(byField.get("prompt_text")!.changed).toBe(false);
    // Both unknown: the same as far as anyone knows.
    expect(compareReceipts(legacy, legacy).changedFields).toBe(0);
  });
});
