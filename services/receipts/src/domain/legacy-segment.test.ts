import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { LegacySegmentSchema } from "@provenance/shared";
import { draftReceipt } from "./new-receipt.js";
import { receiptRequest, sha, thrownBy } from "../../test/receipt-fixtures.js";
import { draftLegacySegment, legacyFingerprint } from "./legacy-segment.js";

const generatedAt = timestampFromDate(new Date("2024-05-01T09:00:00Z"));

describe("a legacy segment's draft", () => {
  it("knows the inputs hash exactly when everything it covers is known, as CreateReceipt computes it", () => {
    const r = receiptRequest();
    const { $typeName: _type, ...fields } = r;
    const full = draftLegacySegment(create(LegacySegmentSchema, { ...fields, additionalParams: {}, generatedAt, outputHash: sha("file") }));
    expect(full.missingFields).toEqual([]);
    expect(full.inputsHash).toBe(draftReceipt(r).inputsHash);
    expect(full.idempotencyKey).toBe(`legacy:${r.segmentId}`);
    expect(full.generatedAt).toEqual(new Date("2024-05-01T09:00:00Z"));
  });

  it("lists what is unknown in field order, stores zero values, and no inputs hash", () => {
    const d = draftLegacySegment(
      create(LegacySegmentSchema, {
        segmentId: "s",
        sceneId: "c",
        projectId: "p",
        workflow: { assetId: "wf", contentHash: "", version: 2 },
        loras: [{ asset: { assetId: "l", contentHash: "", version: 0 }, weight: 0.5 }],
        promptText: "",
        generatedAt,
      }),
    );
    expect(d.missingFields).toEqual([
      "source_image", "variant_image", "workflow.content_hash", "model", "loras[0].content_hash", "workflow_version",
      "negative_prompt", "cfg_scale", "seed", "steps", "sampler", "resolution_width", "resolution_height",
      "additional_params", "inputs_hash", "output_hash",
    ]);
    expect(d).toMatchObject({ inputsHash: "", steps: 0, seed: 0n, promptText: "", outputHash: null });
    expect(d.inputs.map((i) => [i.role, i.position, i.contentHash, i.version, i.weight])).toEqual([
      ["workflow", 0, "", 2, null],
      ["lora", 0, "", null, 0.5],
    ]);
  });

  it("takes no_variant_image and no_loras as known absences, and refuses them with what they deny", () => {
    const known = draftLegacySegment(create(LegacySegmentSchema, { segmentId: "s", noVariantImage: true, noLoras: true, generatedAt }));
    expect(known.missingFields).not.toContain("variant_image");
    expect(known.missingFields).not.toContain("loras");
    const contradiction = thrownBy(() =>
      draftLegacySegment(create(LegacySegmentSchema, { segmentId: "s", noLoras: true, loras: [{ asset: { assetId: "l" }, weight: 1 }], generatedAt })),
    );
    expect(contradiction).toMatchObject({ field: "no_loras" });
  });

  it("fingerprints content, hash case aside", () => {
    const a = create(LegacySegmentSchema, { segmentId: "s", outputHash: sha("x"), generatedAt });
    const b = create(LegacySegmentSchema, { segmentId: "s", outputHash: sha("x").toUpperCase(), generatedAt });
    const c = create(LegacySegmentSchema, { segmentId: "s", outputHash: sha("y"), generatedAt });
    expect(legacyFingerprint(a)).toBe(legacyFingerprint(b));
    expect(legacyFingerprint(a)).not.toBe(legacyFingerprint(c));
  });
});
