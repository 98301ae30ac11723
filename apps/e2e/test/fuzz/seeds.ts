/**
 * Valid requests to mutate: a small world written through the APIs (assets with versions, a completed receipt made
 * stale by a newer LoRA, a running receipt, a regeneration batch, pins to the LoRA's v1 of scene-2 and of seg-4),
 * and for each request type a valid request against
 * it, built with `create` so the compiler checks every field. Mutating one or two fields of a request that would
 * succeed reaches past the validation into the handlers, the SQL and the other services.
 */
import { createHash } from "node:crypto";
import { create, toJson, type DescMessage, type JsonObject, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AssetKind,
  AssetService,
  BatchGetCurrentReceiptsRequestSchema,
  CompleteReceiptRequestSchema,
  CompleteReceiptsRequestSchema,
  CreateReceiptRequestSchema,
  CreateReceiptsRequestSchema,
  FindReceiptsByInputsHashRequestSchema,
  GetAssetRequestSchema,
  GetAssetUsageRequestSchema,
  GetReceiptRequestSchema,
  GetRegenerationBatchRequestSchema,
  GetSegmentProvenanceRequestSchema,
  GetStalenessReportRequestSchema,
  GetVersionRequestSchema,
  ListAssetsRequestSchema,
  ListPinsRequestSchema,
  ListProjectsRequestSchema,
  ListRegenerationJobsRequestSchema,
  ListSegmentsRequestSchema,
  ListStaleSegmentsRequestSchema,
  ListVersionsRequestSchema,
  PinSegmentsRequestSchema,
  PlanRegenerationRequestSchema,
  PublishVersionRequestSchema,
  ReceiptService,
  ReceiptStatus,
  RegenerationService,
  RegisterAssetRequestSchema,
  SetCurrentVersionRequestSchema,
  StalenessService,
  SubmitRegenerationRequestSchema,
  UnpinSegmentsRequestSchema,
  WatchStalenessRequestSchema,
} from "@provenance/shared";
import fc from "fast-check";
import type { FuzzSystem } from "./fuzz-system.js";

/** A content hash from a label. */
export function sha(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

/** The project the world is written in. */
export const PROJECT = "p1";

/** Valid requests by request type name; each draw may differ in its keys, so retries and new writes both occur. */
export type Bases = ReadonlyMap<string, fc.Arbitrary<JsonObject>>;

function json<D extends DescMessage>(schema: D, init: MessageInitShape<D>): JsonObject {
  return toJson(schema, create(schema, init), { useProtoFieldName: true }) as JsonObject;
}

/** The same request with its keys numbered `n` (0..keys-1): equal draws are retries, different ones new writes. */
function keyed(base: JsonObject, fields: Record<string, (n: number) => string>, keys = 8): fc.Arbitrary<JsonObject> {
  return fc.nat(keys - 1).map((n) => ({ ...base, ...Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f(n)])) }));
}

/** Writes the world through the APIs as the admin, then returns a valid request of every type. */
export async function seedWorld(sys: FuzzSystem): Promise<Bases> {
  const { env } = sys;
  const assets = env.client(AssetService, sys.staleness.url);
  const receipts = env.client(ReceiptService, sys.receipts.url);
  const regeneration = env.client(RegenerationService, sys.regeneration.url);
  const staleness = env.client(StalenessService, sys.staleness.url);

  const kinds: [string, AssetKind, string][] = [
    ["a-model", AssetKind.MODEL, ""],
    ["a-workflow", AssetKind.WORKFLOW, ""],
    ["a-source", AssetKind.SOURCE_IMAGE, PROJECT],
    ["a-variant", AssetKind.VARIANT_IMAGE, PROJECT],
    ["a-lora", AssetKind.LORA, PROJECT],
  ];
  for (const [assetId, kind, projectId] of kinds) {
    await assets.registerAsset({ assetId, kind, name: `${assetId}.bin`, projectId });
    await assets.publishVersion({ assetId, contentHash: sha(`${assetId} v1`), uploadedBy: "seed" });
  }
  const ref = (assetId: string, v = 1) => ({ assetId, contentHash: sha(`${assetId} v${v}`), version: v });
  const receiptInit = {
    segmentId: "seg-1",
    sceneId: "scene-1",
    projectId: PROJECT,
    characterName: "anna",
    sequenceIndex: 1,
    sourceImage: ref("a-source"),
    variantImage: ref("a-variant"),
    workflow: ref("a-workflow"),
    model: ref("a-model"),
    loras: [{ asset: ref("a-lora"), weight: 0.8 }],
    workflowVersion: "i2v-3",
    promptText: "anna walks along the pier",
    negativePrompt: "blurry",
    cfgScale: 6.5,
    seed: 18446744073000000000n,
    steps: 28,
    sampler: "euler",
    resolutionWidth: 832,
    resolutionHeight: 480,
    additionalParams: { fps: 16, motion: { strength: 0.4 } },
    generationStartedAt: timestampFromDate(new Date("2026-11-21T10:00:00Z")),
    idempotencyKey: "seed-1",
  };
  const { receipt: done } = await receipts.createReceipt(receiptInit);
  await receipts.completeReceipt({ receiptId: done!.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date()), outputHash: sha("out 1") });
  const { receipt: running } = await receipts.createReceipt({ ...receiptInit, segmentId: "seg-2", sequenceIndex: 2, idempotencyKey: "seed-2" });
  // A newer LoRA makes seg-1 stale, so plans and batches have a job.
  await assets.publishVersion({ assetId: "a-lora", contentHash: sha("a-lora v2"), uploadedBy: "seed" });
  await sys.settle();
  const { batch } = await regeneration.submitRegeneration({ projectId: PROJECT, idempotencyKey: "seed-regen" });
  await sys.settle();
  // Two more segments on the LoRA's v1, pinned to it (it is on v2), away from scene-1 so seg-1 stays stale and plannable:
  // scene-2's pin stays, so PinSegments retries return it; seg-4's is there to unpin.
  for (const [segmentId, sceneId] of [["seg-3", "scene-2"], ["seg-4", "scene-3"]] as const) {
    const { receipt } = await receipts.createReceipt({ ...receiptInit, segmentId, sceneId, idempotencyKey: `seed-${segmentId}` });
    await receipts.completeReceipt({ receiptId: receipt!.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date()), outputHash: sha(`out ${segmentId}`) });
  }
  await sys.settle();
  const pinInit = { projectId: PROJECT, sceneId: "scene-2", assetId: "a-lora", version: 1, reason: "fz approved take 0" };
  const { pinnedSegments } = await staleness.pinSegments(pinInit);
  if (pinnedSegments !== 1) throw new Error(`the seeded pin of scene-2 waives ${pinnedSegments} segments, not seg-3 alone`);
  const { pin: toUnpin } = await staleness.pinSegments({ projectId: PROJECT, segmentIds: ["seg-4"], assetId: "a-lora", version: 1, reason: "seed: to unpin" });
  await sys.settle();

  const createBase = json(CreateReceiptRequestSchema, { ...receiptInit, segmentId: "seg-fz", idempotencyKey: "fz" });
  const completeBase = json(CompleteReceiptRequestSchema, {
    receiptId: running!.receiptId,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:05:00Z")),
    outputHash: sha("out 2"),
  });
  const createKeyed = keyed(createBase, { segment_id: (n) => `seg-fz-${n}`, idempotency_key: (n) => `fz-${n}` });
  const bases = new Map<string, fc.Arbitrary<JsonObject>>([
    [CreateReceiptRequestSchema.typeName, createKeyed],
    [CreateReceiptsRequestSchema.typeName, fc.array(createKeyed, { minLength: 1, maxLength: 3 }).map((receipts) => ({ receipts }))],
    [CompleteReceiptRequestSchema.typeName, fc.constant(completeBase)],
    [CompleteReceiptsRequestSchema.typeName, fc.constant({ receipts: [completeBase] })],
    [GetReceiptRequestSchema.typeName, fc.constant(json(GetReceiptRequestSchema, { receiptId: done!.receiptId }))],
    [GetSegmentProvenanceRequestSchema.typeName, fc.constant(json(GetSegmentProvenanceRequestSchema, { segmentId: "seg-1" }))],
    [BatchGetCurrentReceiptsRequestSchema.typeName, fc.constant(json(BatchGetCurrentReceiptsRequestSchema, { segmentIds: ["seg-1", "seg-2", "seg-missing"] }))],
    [GetAssetUsageRequestSchema.typeName, fc.constant(json(GetAssetUsageRequestSchema, { assetId: "a-lora", version: 1, pageSize: 10 }))],
    [FindReceiptsByInputsHashRequestSchema.typeName, fc.constant(json(FindReceiptsByInputsHashRequestSchema, { inputsHash: done!.inputsHash, pageSize: 10 }))],
    [ListProjectsRequestSchema.typeName, fc.constant(json(ListProjectsRequestSchema, { pageSize: 10 }))],
    [ListSegmentsRequestSchema.typeName, fc.constant(json(ListSegmentsRequestSchema, { projectId: PROJECT, sceneId: "scene-1", includeSuperseded: true, pageSize: 10 }))],
    [
      RegisterAssetRequestSchema.typeName,
      keyed(json(RegisterAssetRequestSchema, { assetId: "a-new", kind: AssetKind.LORA, name: "new.safetensors", projectId: PROJECT }), { asset_id: (n) => `a-new-${n}` }),
    ],
    [
      PublishVersionRequestSchema.typeName,
      keyed(json(PublishVersionRequestSchema, { assetId: "a-lora", contentHash: sha("a-lora v3"), uploadedBy: "fuzz", note: "retrained", makeCurrent: false }), {
        content_hash: (n) => sha(`a-lora fuzz ${n}`),
      }),
    ],
    [SetCurrentVersionRequestSchema.typeName, fc.constantFrom(1, 2).map((version) => json(SetCurrentVersionRequestSchema, { assetId: "a-lora", version }))],
    [GetAssetRequestSchema.typeName, fc.constant(json(GetAssetRequestSchema, { assetId: "a-lora" }))],
    [ListAssetsRequestSchema.typeName, fc.constant(json(ListAssetsRequestSchema, { projectId: PROJECT, kind: AssetKind.LORA, pageSize: 10 }))],
    [ListVersionsRequestSchema.typeName, fc.constant(json(ListVersionsRequestSchema, { assetId: "a-lora", pageSize: 10 }))],
    [GetVersionRequestSchema.typeName, fc.constant(json(GetVersionRequestSchema, { assetId: "a-lora", version: 1 }))],
    [GetStalenessReportRequestSchema.typeName, fc.constant(json(GetStalenessReportRequestSchema, { projectId: PROJECT }))],
    [ListStaleSegmentsRequestSchema.typeName, fc.constant(json(ListStaleSegmentsRequestSchema, { projectId: PROJECT, pageSize: 10 }))],
    [WatchStalenessRequestSchema.typeName, fc.constant(json(WatchStalenessRequestSchema, { projectId: PROJECT }))],
    [PlanRegenerationRequestSchema.typeName, fc.constant(json(PlanRegenerationRequestSchema, { projectId: PROJECT, segmentIds: ["seg-1"], assetId: "a-lora" }))],
    [
      SubmitRegenerationRequestSchema.typeName,
      keyed(json(SubmitRegenerationRequestSchema, { projectId: PROJECT, segmentIds: ["seg-1"], idempotencyKey: "fz-regen" }), { idempotency_key: (n) => `fz-regen-${n}` }),
    ],
    [GetRegenerationBatchRequestSchema.typeName, fc.constant(json(GetRegenerationBatchRequestSchema, { batchId: batch!.batchId }))],
    [ListRegenerationJobsRequestSchema.typeName, fc.constant(json(ListRegenerationJobsRequestSchema, { batchId: batch!.batchId, pageSize: 10 }))],
    [PinSegmentsRequestSchema.typeName, keyed(json(PinSegmentsRequestSchema, pinInit), { reason: (n) => `fz approved take ${n}` })],
    [UnpinSegmentsRequestSchema.typeName, fc.constant(json(UnpinSegmentsRequestSchema, { projectId: PROJECT, pinId: toUnpin!.pinId }))],
    [ListPinsRequestSchema.typeName, fc.constantFrom(false, true).map((includeEnded) => json(ListPinsRequestSchema, { projectId: PROJECT, includeEnded, pageSize: 10 }))],
  ]);
  return bases;
}
