/** Plans leave pinned segments out: they come from the staleness service's stale list, where a pin's inputs are not stale. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetKind } from "@provenance/shared";
import { eventually, recordGeneration, registerAsset, startLoop, type LoopHarness } from "./regeneration-harness.js";

const PROJECT = "p-pins";
let h: LoopHarness;

beforeAll(async () => {
  h = await startLoop();
  const [source] = await registerAsset(h, "src-pin", AssetKind.SOURCE_IMAGE, "cy.png", ["cy"]);
  const [clothedV1] = await registerAsset(h, "clothed-pin", AssetKind.VARIANT_IMAGE, "clothed_cy.png", ["clothed cy v1", "clothed cy v2"]);
  const [workflow] = await registerAsset(h, "wf-pin", AssetKind.WORKFLOW, "i2v.json", ["wf cy"]);
  const [model] = await registerAsset(h, "model-pin", AssetKind.MODEL, "wan.safetensors", ["wan cy"]);
  const [loraV1] = await registerAsset(h, "lora-pin", AssetKind.LORA, "cy_face.safetensors", ["cy face v1", "cy face v2"]);
  let seq = 0;
  for (const sceneId of ["s1", "s2"]) {
    for (const i of [0, 1]) {
      seq += 1;
      await recordGeneration(
        h,
        { projectId: PROJECT, sceneId, segmentId: `pin-${sceneId}-${i}`, sequenceIndex: seq },
        // pin-s1-1 also wears the clothed variant.
        { source: source!, variant: sceneId === "s1" && i === 1 ? clothedV1 : undefined, workflow: workflow!, model: model!, loras: [{ asset: loraV1!, weight: 0.7 }] },
      );
    }
  }
  await h.settle();
  await h.assets.setCurrentVersion({ assetId: "lora-pin", version: 2 });
  await h.assets.setCurrentVersion({ assetId: "clothed-pin", version: 2 });
  await eventually(async () => (await h.report.getStalenessReport({ projectId: PROJECT })).totalStaleSegments === 4, 10_000, "4 stale");
});
afterAll(async () => {
  await h?.close();
});

describe("a plan after pinning", () => {
  it("has no job for what the pin holds, and keeps the pinned version in a job stale for another asset", async () => {
    expect((await h.regen.planRegeneration({ projectId: PROJECT })).jobs.map((j) => j.oldSegmentId).sort()).toEqual(["pin-s1-0", "pin-s1-1", "pin-s2-0", "pin-s2-1"]);
    await h.report.pinSegments({ projectId: PROJECT, sceneId: "s1", assetId: "lora-pin", version: 1, reason: "s1 stays on cy_face v1" });

    const { jobs } = await h.regen.planRegeneration({ projectId: PROJECT });
    expect(jobs.map((j) => j.oldSegmentId).sort()).toEqual(["pin-s1-1", "pin-s2-0", "pin-s2-1"]);
    // pin-s1-1 is still stale for the clothed variant: its job swaps only that and keeps the pinned LoRA at v1.
    const s1 = jobs.find((j) => j.oldSegmentId === "pin-s1-1")!;
    expect(s1.swapped.map((s) => [s.assetId, s.receiptVersion, s.currentVersion])).toEqual([["clothed-pin", 1, 2]]);
    expect(s1.inputs!.loras.map((l) => [l.asset!.assetId, l.asset!.version])).toEqual([["lora-pin", 1]]);
    expect((await h.regen.planRegeneration({ projectId: PROJECT, segmentIds: ["pin-s1-0"] })).jobs).toEqual([]);
  });
});
