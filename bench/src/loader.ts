/**
 * Fills a fresh database through the services' own write path: RegisterAsset + PublishVersion on AssetService,
 * then the batch RPCs CreateReceipts + CompleteReceipts on ReceiptService over gRPC (HTTP/2, several batches
 * multiplexed on one session) — the same repository code as CreateReceipt/CompleteReceipt, which are batches of one.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
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
  await writePlannedBatch(
    client,
    Array.from({ length: n }, (_, k) => dataset.receipt(first + k)),
    Array.from({ length: n }, (_, k) => `${keyPrefix}${first + k}`),
  );
}

/**
 * `call()`, and while it answers UNAVAILABLE (the service asking to be retried later, e.g. its database pool busy) again
 * after 0.25, 0.5, 1, 2 and 4 s, as a pipeline client would; any other error, or the sixth UNAVAILABLE, is thrown.
 * Only for calls whose retry records nothing twice (idempotency keys, an identical completion).
 */
export async function retryUnavailable<T>(call: () => Promise<T>, delaysMs: readonly number[] = [250, 500, 1000, 2000, 4000]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= delaysMs.length || ConnectError.from(err).code !== Code.Unavailable) throw err;
      await new Promise((r) => setTimeout(r, delaysMs[attempt]));
    }
  }
}

/**
 * Records `receipts` (with their idempotency keys) through one CreateReceipts and one CompleteReceipts, each retried
 * while UNAVAILABLE: the same keys and the same completion again record nothing twice.
 */
export async function writePlannedBatch(client: Client<typeof ReceiptService>, receipts: PlannedReceipt[], keys: string[]): Promise<void> {
  const startedAt = new Date(Date.now() - 90_000);
  const requests = receipts.map((r, k) => createRequestOf(r, keys[k]!, startedAt));
  const created = await retryUnavailable(() => client.createReceipts({ receipts: requests }));
  const completedAt = timestampFromDate(new Date());
  const completions = created.results.map((r, k) => ({
    receiptId: r.receipt!.receiptId,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: completedAt,
    outputHash: contentHashOf(`output ${keys[k]}`),
  }));
  await retryUnavailable(() => client.completeReceipts({ receipts: completions }));
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

/**
 * Writes receipts [from, from + n) (from = 0 unless given) through CreateReceipts + CompleteReceipts, `batchSize` per
 * call, `concurrency` batches in flight per client; with several clients (replicas of the service) the batches are
 * dealt out in turn, each client with `concurrency` in flight.
 */
export async function loadReceipts(
  clients: Client<typeof ReceiptService> | Client<typeof ReceiptService>[],
  dataset: Dataset,
  n: number,
  concurrency: number,
  batchSize: number,
  runId: string,
  from = 0,
  label = "load receipts",
): Promise<LoadResult> {
  const all = Array.isArray(clients) ? clients : [clients];
  const bar = new ProgressBar(label, n);
  const t0 = performance.now();
  await forEachConcurrently(Math.ceil(n / batchSize), concurrency * all.length, async (b) => {
    const first = from + b * batchSize;
    const size = Math.min(batchSize, from + n - first);
    await writeReceiptBatch(all[b % all.length]!, dataset, first, size, `${runId}-r`);
    bar.tick(size);
  });
  bar.done();
  const seconds = (performance.now() - t0) / 1000;
  return { receipts: n, seconds: Math.round(seconds * 10) / 10, receiptsPerSecond: Math.round(n / seconds), concurrency, batchSize };
}
