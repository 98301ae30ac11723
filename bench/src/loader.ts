/**
 * Fills a fresh database through the services' own write path: RegisterAsset + PublishVersion on AssetService,
 * then the batch RPCs CreateReceipts + CompleteReceipts on ReceiptService over gRPC (HTTP/2, several batches
 * multiplexed on one session) — the same repository code as CreateReceipt/CompleteReceipt, which are batches of one.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { performance } from "node:perf_hooks";
import {
  AssetKind,
  AssetService,
  CreateReceiptRequestSchema,
  ReceiptService,
  ReceiptStatus,
  type CreateReceiptRequest,
} from "@provenance/shared";
import { contentHashOf, type Dataset, type PlannedReceipt } from "./dataset-shape.js";
import { ProgressBar } from "./progress-bar.js";

/** The CreateReceipt request of a planned receipt. */
export function createRequestOf(r: PlannedReceipt, idempotencyKey: string, startedAt: Date): CreateReceiptRequest {
  return create(CreateReceiptRequestSchema, {
    segmentId: r.segmentId,
    sceneId: r.sceneId,
    projectId: r.projectId,
    characterName: r.characterName,
    sequenceIndex: r.sequenceIndex,
    sourceImage: r.sourceImage,
    variantImage: r.variantImage,
    workflow: r.workflow,
    model: r.model,
    loras: r.loras,
    workflowVersion: r.workflow.assetId,
    promptText: r.promptText,
    negativePrompt: "blurry, extra fingers",
    cfgScale: r.cfgScale,
    seed: r.seed,
    steps: 30,
    sampler: "euler",
    resolutionWidth: 832,
    resolutionHeight: 480,
    generationStartedAt: timestampFromDate(startedAt),
    idempotencyKey,
  });
}

/** Records receipts [first, first + n) as a pipeline would in bulk: one CreateReceipts when they start, one CompleteReceipts when they end. */
export async function writeReceiptBatch(
  client: Client<typeof ReceiptService>,
  dataset: Dataset,
  first: number,
  n: number,
  keyPrefix: string,
): Promise<void> {
  const startedAt = new Date(Date.now() - 90_000);
  const created = await client.createReceipts({
    receipts: Array.from({ length: n }, (_, k) => createRequestOf(dataset.receipt(first + k), `${keyPrefix}${first + k}`, startedAt)),
  });
  const completedAt = timestampFromDate(new Date());
  await client.completeReceipts({
    receipts: created.results.map((r, k) => ({
      receiptId: r.receipt!.receiptId,
      status: ReceiptStatus.SUCCEEDED,
      generationCompletedAt: completedAt,
      outputHash: contentHashOf(`output ${keyPrefix}${first + k}`),
    })),
  });
}

/** Records one receipt the way the pipeline does: create when generation starts, complete when it ends. */
export async function writeReceipt(client: Client<typeof ReceiptService>, r: PlannedReceipt, key: string): Promise<void> {
  const startedAt = new Date(Date.now() - 90_000);
  const created = await client.createReceipt(createRequestOf(r, key, startedAt));
  await client.completeReceipt({
    receiptId: created.receipt!.receiptId,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date()),
    outputHash: contentHashOf(`output ${key}`),
  });
}

const KINDS = {
  MODEL: AssetKind.MODEL,
  LORA: AssetKind.LORA,
  WORKFLOW: AssetKind.WORKFLOW,
  SOURCE_IMAGE: AssetKind.SOURCE_IMAGE,
  VARIANT_IMAGE: AssetKind.VARIANT_IMAGE,
} as const;

/** Runs `work(i)` for i in [0, n) with `concurrency` in flight; the first error stops the run. */
export async function forEachConcurrently(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < n && failed === undefined) {
      const i = next++;
      try {
        await work(i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, worker));
  if (failed !== undefined) throw failed;
}

/** Registers every asset and publishes its versions in order (the last becomes current); returns the count of versions. */
export async function loadAssets(assets: Client<typeof AssetService>, dataset: Dataset, concurrency = 32): Promise<number> {
  let versions = 0;
  await forEachConcurrently(dataset.assets.length, concurrency, async (i) => {
    const a = dataset.assets[i]!;
    await assets.registerAsset({ assetId: a.assetId, kind: KINDS[a.kind], name: a.name, projectId: a.projectId });
    for (const hash of a.versions) {
      await assets.publishVersion({ assetId: a.assetId, contentHash: hash, uploadedBy: "bench", note: "" });
      versions += 1;
    }
  });
  return versions;
}

/** What the receipt load did. */
export interface LoadResult {
  receipts: number;
  seconds: number;
  receiptsPerSecond: number;
  /** Batches in flight. */
  concurrency: number;
  /** Receipts per CreateReceipts / CompleteReceipts call. */
  batchSize: number;
}

/** Writes receipts [0, n) through CreateReceipts + CompleteReceipts, `batchSize` per call, `concurrency` batches in flight. */
export async function loadReceipts(
  client: Client<typeof ReceiptService>,
  dataset: Dataset,
  n: number,
  concurrency: number,
  batchSize: number,
  runId: string,
): Promise<LoadResult> {
  const bar = new ProgressBar("load receipts", n);
  const t0 = performance.now();
  await forEachConcurrently(Math.ceil(n / batchSize), concurrency, async (b) => {
    const first = b * batchSize;
    const size = Math.min(batchSize, n - first);
    await writeReceiptBatch(client, dataset, first, size, `${runId}-r`);
    bar.tick(size);
  });
  bar.done();
  const seconds = (performance.now() - t0) / 1000;
  return { receipts: n, seconds: Math.round(seconds * 10) / 10, receiptsPerSecond: Math.round(n / seconds), concurrency, batchSize };
}
