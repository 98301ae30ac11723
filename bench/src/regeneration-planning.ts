/**
 * Planning and submitting the regeneration of a project whose every segment is stale: a project of its own
 * (`proj-regen`, `segments` segments, each naming version 1 of a LoRA of its own), recorded through the batch RPCs,
 * then version 2 of that LoRA published, so every segment has exactly one stale input. Timed: PlanRegeneration of
 * the whole project (closed loop, one in flight) and one SubmitRegeneration of it (which plans again and writes the
 * batch, its jobs and one generation.jobs.requested per job).
 */
import type { Client } from "@connectrpc/connect";
import { performance } from "node:perf_hooks";
import { AssetKind, AssetService, ReceiptService, RegenerationService, StalenessService } from "@provenance/shared";
import { contentHashOf, type Dataset, type PlannedReceipt } from "./dataset-shape.js";
import { forEachConcurrently, writePlannedBatch } from "./loader.js";
import { measureClosedLoop, summarise, type LatencyStats } from "./latency-stats.js";

/** The project planned and submitted. */
export const REGEN_PROJECT = "proj-regen";
/** Its LoRA, the one input that goes stale. */
export const REGEN_LORA = "lora-regen";

/** What the phase measured. */
export interface PlanningResult {
  projectId: string;
  /** Stale segments of the project when planning (every one of its segments). */
  staleSegments: number;
  /** Jobs one PlanRegeneration returned. */
  plannedJobs: number;
  /** PlanRegeneration of the whole project. */
  plan: LatencyStats;
  /** The one SubmitRegeneration of the whole project (planning included). */
  submit: LatencyStats;
  /** Jobs it submitted. */
  submittedJobs: number;
}

/** Builds the project, waits until the staleness service sees every segment stale, and times planning and submitting. */
export async function measurePlanning(opts: {
  receipts: Client<typeof ReceiptService>;
  assets: Client<typeof AssetService>;
  staleness: Client<typeof StalenessService>;
  regeneration: Client<typeof RegenerationService>;
  dataset: Dataset;
  /** Segments of the project (10,000 at full size). */
  segments: number;
  /** Dataset receipts [first, first + segments) lend the project their other inputs. */
  first: number;
  runId: string;
  /** Waits until the staleness projection has consumed every receipt event so far. */
  caughtUp: () => Promise<unknown>;
  planCalls: number;
}): Promise<PlanningResult> {
  const v1 = contentHashOf(`${REGEN_LORA}@v1-${opts.runId}`);
  await opts.assets.registerAsset({ assetId: REGEN_LORA, kind: AssetKind.LORA, name: "regen_lora.safetensors" });
  await opts.assets.publishVersion({ assetId: REGEN_LORA, contentHash: v1, uploadedBy: "bench", note: "" });
  const scenes = 20;
  const receiptOf = (k: number): PlannedReceipt => {
    const base = opts.dataset.receipt(opts.first + k);
    const scene = k % scenes;
    return {
      ...base,
      projectId: REGEN_PROJECT,
      sceneId: `${REGEN_PROJECT}-scene-${String(scene).padStart(2, "0")}`,
      segmentId: `${REGEN_PROJECT}-seg-${String(k).padStart(6, "0")}`,
      sequenceIndex: Math.floor(k / scenes),
      loras: [{ asset: { assetId: REGEN_LORA, contentHash: v1, version: 1 }, weight: 0.8 }],
    };
  };
  const batch = 250;
  await forEachConcurrently(Math.ceil(opts.segments / batch), 4, async (b) => {
    const ks = Array.from({ length: Math.min(batch, opts.segments - b * batch) }, (_, j) => b * batch + j);
    await writePlannedBatch(opts.receipts, ks.map(receiptOf), ks.map((k) => `${opts.runId}-regen-${k}`));
  });
  await opts.caughtUp();
  await opts.assets.publishVersion({ assetId: REGEN_LORA, contentHash: contentHashOf(`${REGEN_LORA}@v2-${opts.runId}`), uploadedBy: "bench", note: "" });
  const report = await opts.staleness.getStalenessReport({ projectId: REGEN_PROJECT });
  if (report.totalStaleSegments !== opts.segments) {
    throw new Error(`${REGEN_PROJECT} has ${report.totalStaleSegments} stale segments, expected ${opts.segments}`);
  }
  const deadline = { timeoutMs: 120_000 };
  let plannedJobs = 0;
  const plan = await measureClosedLoop({ warmup: 1, calls: opts.planCalls, concurrency: 1 }, async () => {
    plannedJobs = (await opts.regeneration.planRegeneration({ projectId: REGEN_PROJECT }, deadline)).jobs.length;
  });
  const t0 = performance.now();
  const submitted = await opts.regeneration.submitRegeneration({ projectId: REGEN_PROJECT, idempotencyKey: `${opts.runId}-regen-submit` }, deadline);
  const submitMs = performance.now() - t0;
  if (submitted.jobs.length !== opts.segments) throw new Error(`SubmitRegeneration made ${submitted.jobs.length} jobs, expected ${opts.segments}`);
  return {
    projectId: REGEN_PROJECT,
    staleSegments: report.totalStaleSegments,
    plannedJobs,
    plan,
    submit: summarise([submitMs], 1, 0, submitMs),
    submittedJobs: submitted.jobs.length,
  };
}
