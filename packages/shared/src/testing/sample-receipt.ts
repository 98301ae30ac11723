import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CreateReceiptRequestSchema, type CreateReceiptRequest } from "../gen/provenance/v1/receipts_pb.js";

/** The fields a test names: where the segment goes and its idempotency key; the rest may be overridden. */
export interface SampleReceiptPlace {
  segmentId: string;
  projectId: string;
  idempotencyKey: string;
  sceneId?: string;
}

/**
 * A valid CreateReceiptRequest for tests that need a receipt but not particular inputs: anna on a pier at dusk, with a
 * source image, workflow and model whose content hashes are fixed, started now. `overrides` replaces any field.
 */
export function sampleCreateReceipt(place: SampleReceiptPlace, overrides: MessageInitShape<typeof CreateReceiptRequestSchema> = {}): CreateReceiptRequest {
  const hash = (c: string) => c.repeat(64);
  return create(CreateReceiptRequestSchema, {
    sceneId: "scene-1",
    characterName: "anna",
    sourceImage: { assetId: "src", contentHash: hash("a") },
    workflow: { assetId: "wf", contentHash: hash("b") },
    model: { assetId: "model", contentHash: hash("c") },
    promptText: "a pier at dusk",
    cfgScale: 7,
    seed: 42n,
    steps: 30,
    sampler: "euler",
    resolutionWidth: 832,
    resolutionHeight: 480,
    generationStartedAt: timestampFromDate(new Date()),
    ...place,
    ...(overrides as object),
  });
}
