import { describe, expect, it } from "vitest";
import { completedReceipt, sha } from "../test/receipts.js";
import {
  INGREDIENT_ASSET_METADATA_KEY,
  manifestDefinition,
  RECEIPT_ASSERTION_LABEL,
  receiptAssertion,
  receiptIngredients,
  TRAINED_ALGORITHMIC_MEDIA,
} from "./manifest-definition.js";

const output = new TextEncoder().encode("the segment");
const options = { title: "seg-17.mp4", format: "video/mp4", generator: { name: "provenance", version: "9.9.9" } };

describe("receiptAssertion", () => {
  it("carries the receipt id, inputs hash, model, LoRAs in order with weights, workflow, images and seed", () => {
    const r = completedReceipt(output);
    expect(receiptAssertion(r)).toEqual({
      receipt_id: r.receiptId,
      segment_id: "seg-17",
      scene_id: "scene-3",
      project_id: "p1",
      inputs_hash: sha("inputs"),
      output_hash: r.outputHash,
      model: { asset_id: "model-wan", content_hash: sha("model wan"), version: 1 },
      loras: [
        { asset_id: "lora-anna", content_hash: sha("lora anna v3"), version: 3, weight: 0.8 },
        { asset_id: "lora-style", content_hash: sha("lora style"), weight: 0.35 },
      ],
      workflow: { asset_id: "wf-i2v", content_hash: sha("workflow"), version: 4, workflow_version: "i2v-3" },
      source_image: { asset_id: "src-anna", content_hash: sha("source anna"), version: 2 },
      variant_image: { asset_id: "var-anna-coat", content_hash: sha("variant coat"), version: 1 },
      seed: "18446744073709551557",
      generation_completed_at: "2026-11-21T10:00:42.000Z",
    });
  });

  it("leaves out what the receipt does not have, and never the prompt", () => {
    const r = completedReceipt(output, { variantImage: undefined, workflowVersion: "", generationCompletedAt: undefined, loras: [] });
    const a = receiptAssertion(r);
    expect(a).not.toHaveProperty("variant_image");
    expect(a).not.toHaveProperty("generation_completed_at");
    expect(a.workflow).toEqual({ asset_id: "wf-i2v", content_hash: sha("workflow"), version: 4 });
    expect(a.loras).toEqual([]);
    expect(JSON.stringify(a)).not.toContain("pier");
  });
});

describe("receiptIngredients", () => {
  it("names the source and variant images by asset id and content hash, without their bytes", () => {
    const [source, variant, ...rest] = receiptIngredients(completedReceipt(output));
    expect(rest).toEqual([]);
    expect(source).toMatchObject({
      title: "source image src-anna v2",
      relationship: "inputTo",
      instance_id: `urn:provenance:asset:src-anna:sha256:${sha("source anna")}`,
      metadata: { [INGREDIENT_ASSET_METADATA_KEY]: { role: "source_image", asset_id: "src-anna", version: 2, content_hash: sha("source anna"), alg: "sha256" } },
    });
    expect(variant).toMatchObject({
      title: "variant image var-anna-coat v1",
      instance_id: `urn:provenance:asset:var-anna-coat:sha256:${sha("variant coat")}`,
    });
    expect(source).not.toHaveProperty("data");
    expect(source).not.toHaveProperty("format");
  });

  it("has one ingredient when the receipt has no variant image, or names the same image twice", () => {
    expect(receiptIngredients(completedReceipt(output, { variantImage: undefined }))).toHaveLength(1);
    const same = completedReceipt(output);
    same.variantImage = same.sourceImage;
    expect(receiptIngredients(same)).toHaveLength(1);
  });

  it("escapes asset ids in the instance id", () => {
    const r = completedReceipt(output, { variantImage: undefined });
    r.sourceImage!.assetId = "images/anna 1.png";
    expect(receiptIngredients(r)[0]!.instance_id).toBe(`urn:provenance:asset:images%2Fanna%201.png:sha256:${sha("source anna")}`);
  });
});

describe("manifestDefinition", () => {
  it("says c2pa.created by a trained model, from the ingredients, and carries the receipt assertion", () => {
    const r = completedReceipt(output);
    const d = manifestDefinition(r, options);
    expect(d.claim_generator_info).toEqual([options.generator]);
    expect(d).toMatchObject({ title: "seg-17.mp4", format: "video/mp4" });
    expect(d.assertions.map((a) => a.label)).toEqual(["c2pa.actions.v2", RECEIPT_ASSERTION_LABEL]);
    expect(d.assertions[0]!.data).toEqual({
      actions: [
        {
          action: "c2pa.created",
          digitalSourceType: TRAINED_ALGORITHMIC_MEDIA,
          description: `Generated with workflow wf-i2v (i2v-3), model model-wan v1, 2 LoRAs; receipt ${r.receiptId}.`,
          when: "2026-11-21T10:00:42.000Z",
          parameters: { ingredientIds: d.ingredients.map((i) => i.instance_id) },
        },
      ],
    });
    expect(d.assertions[1]!.data).toEqual(receiptAssertion(r));
  });
});
