/**
 * GPU-time estimates before re-running, on real PostgreSQL and NATS with the three services: every planned job carries
 * the median generation time of past receipts like it, the plan and the submitted batch their totals; past durations
 * are read once per plan for all its jobs.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AssetKind,
  CreateReceiptRequestSchema,
  EstimateBasis,
  GenerationDurationsSchema,
  GenerationInputsSchema,
  ReceiptStatus,
  type AssetRef,
} from "@provenance/shared";
import { EstimateGpuTime } from "../src/app/estimate-gpu-time.js";
import type { DurationKeyInit } from "../src/clients/receipt-reads.js";
import { eventually, registerAsset, startLoop, type LoopHarness } from "./regeneration-harness.js";

const PROJECT = "p-cost";
let h: LoopHarness;
let loraV2: AssetRef;

beforeAll(async () => {
  h = await startLoop();
  const [source] = await registerAsset(h, "src-c", AssetKind.SOURCE_IMAGE, "c.png", ["c src"]);
  const [workflow] = await registerAsset(h, "wf-c", AssetKind.WORKFLOW, "c.json", ["c wf"]);
  const [model] = await registerAsset(h, "model-c", AssetKind.MODEL, "c.safetensors", ["c model"]);
  const refs = await registerAsset(h, "lora-c", AssetKind.LORA, "c_lora.safetensors", ["c lora v1", "c lora v2"]);
  loraV2 = refs[1]!;
  const start = new Date("2026-11-30T10:00:00Z");
  // Three segments with the LoRA (60, 120 and 180 s) and one without it (600 s), all with the same settings.
  for (const [i, seconds] of [60, 120, 180, 600].entries()) {
    const { receipt } = await h.receiptClient.createReceipt(
      create(CreateReceiptRequestSchema, {
        projectId: PROJECT,
        sceneId: "scene-1",
        segmentId: `cost-seg-${i}`,
        characterName: "anna",
        sequenceIndex: i,
        sourceImage: source,
        workflow,
        model,
        loras: i < 3 ? [{ asset: refs[0], weight: 0.8 }] : [],
        promptText: `shot ${i}`,
        seed: BigInt(i),
        steps: 28,
        sampler: "euler",
        resolutionWidth: 832,
        resolutionHeight: 480,
        generationStartedAt: timestampFromDate(start),
        idempotencyKey: `cost-${i}`,
      }),
    );
    await h.receiptClient.completeReceipt({
      receiptId: receipt!.receiptId,
      status: ReceiptStatus.SUCCEEDED,
      generationCompletedAt: timestampFromDate(new Date(start.getTime() + seconds * 1000)),
      outputHash: "c".repeat(64),
    });
  }
  await h.settle();
  await h.assets.setCurrentVersion({ assetId: "lora-c", version: loraV2.version });
  await eventually(async () => (await h.report.getStalenessReport({ projectId: PROJECT })).totalStaleSegments === 3, 10_000, "3 stale segments");
});
afterAll(async () => {
  await h?.close();
});

describe("GPU-time estimates", () => {
  it("every planned job carries the median of past receipts with its settings, the plan the total", async () => {
    const plan = await h.regen.planRegeneration({ projectId: PROJECT });
    expect(plan.jobs).toHaveLength(3);
    for (const job of plan.jobs) {
      // 60, 120, 180, 600 s: the median is 150 s.
      expect(job.gpuEstimate).toMatchObject({ estimatedGpuMs: 150_000n, sampleSize: 4, basis: EstimateBasis.SAME_SETTINGS });
      expect(job.gpuEstimate!.summary).toBe("median of 4 past receipts with the same workflow, model, 832x480 and 28 steps");
    }
    expect([plan.estimatedGpuMs, plan.jobsWithoutEstimate]).toEqual([450_000n, 0]);
  });

  it("the submitted batch answers the totals as planned, on its first call and on a retry", async () => {
    const first = await h.regen.submitRegeneration({ projectId: PROJECT, idempotencyKey: "cost-submit" });
    expect([first.estimatedGpuMs, first.jobsWithoutEstimate, first.jobs.length]).toEqual([450_000n, 0, 3]);
    expect(first.jobs[0]!.plan!.gpuEstimate).toMatchObject({ estimatedGpuMs: 150_000n, basis: EstimateBasis.SAME_SETTINGS });
    const retry = await h.regen.submitRegeneration({ projectId: PROJECT, idempotencyKey: "cost-submit" });
    expect([retry.created, retry.estimatedGpuMs, retry.jobsWithoutEstimate]).toEqual([false, 450_000n, 0]);
  });

  it("reads the durations of all the jobs' keys in one call, each distinct key once", async () => {
    const calls: DurationKeyInit[][] = [];
    const estimator = new EstimateGpuTime({
      async generationDurations(keys) {
        calls.push([...keys]);
        return keys.map((key) => create(GenerationDurationsSchema, { key, medianMs: key.modelAssetId === "m1" ? 1000n : 0n, sampleSize: key.modelAssetId === "m1" ? 1 : 0 }));
      },
    });
    const job = (model: string) => create(GenerationInputsSchema, { model: { assetId: model }, workflow: { assetId: "wf" }, steps: 20, resolutionWidth: 64, resolutionHeight: 64 });
    const estimates = await estimator.estimate([job("m1"), job("m1"), job("m2")]);
    expect(calls).toHaveLength(1);
    // m1 same settings, m1 model, all, m2 same settings, m2 model: 5 distinct keys for 3 jobs.
    expect(calls[0]).toHaveLength(5);
    expect(estimates.map((e) => e.basis)).toEqual([EstimateBasis.SAME_SETTINGS, EstimateBasis.SAME_SETTINGS, EstimateBasis.NO_HISTORY]);
  });
});
