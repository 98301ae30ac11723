/** The input rules of every ReceiptService request, declared once; enforced by the validation interceptor. */
import {
  BatchGetCurrentReceiptsRequestSchema,
  CompareReceiptsRequestSchema,
  GetCoverageRequestSchema,
  ImportLegacySegmentsRequestSchema,
  LegacySegmentSchema,
  CompleteReceiptRequestSchema,
  CompleteReceiptsRequestSchema,
  CreateReceiptRequestSchema,
  CreateReceiptsRequestSchema,
  FindReceiptsByInputsHashRequestSchema,
  GetAssetUsageRequestSchema,
  GetCheckpointRequestSchema,
  GetConsistencyProofRequestSchema,
  GetGenerationDurationsRequestSchema,
  GetReceiptProofRequestSchema,
  GetReceiptRequestSchema,
  GetSegmentProvenanceRequestSchema,
  ListProjectsRequestSchema,
  ListSegmentsRequestSchema,
  MAX_ASSET_VERSION,
  ReceiptStatus,
  assetRef,
  defineRules,
  each,
  enumValue,
  finite,
  id,
  int,
  message,
  optional,
  optionalId,
  optionalSha256,
  pageSize,
  pageToken,
  required,
  sha256,
  struct,
  text,
  timestamp,
  type RuleTable,
} from "@provenance/shared";

/** Most LoRAs one generation may stack. */
export const MAX_LORAS = 32;

/** Most keys one GetGenerationDurations call may carry. */
export const MAX_DURATION_KEYS = 1000;

/** Most receipts one CreateReceipts or CompleteReceipts call may carry. */
export const MAX_BATCH = 1000;

/** Most segments one BatchGetCurrentReceipts call may ask for. */
export const MAX_CURRENT_RECEIPT_SEGMENTS = 1000;

const createReceiptRules = defineRules(CreateReceiptRequestSchema, {
  segment_id: id(),
  scene_id: id(),
  project_id: id(),
  character_name: text({ max: 200, singleLine: true }),
  sequence_index: int({ min: 0, max: 1_000_000 }),
  source_image: required(assetRef()),
  variant_image: optional(assetRef()),
  workflow: required(assetRef()),
  model: required(assetRef()),
  loras: each(message({ asset: required(assetRef()), weight: finite({ min: -100, max: 100 }) }), { max: MAX_LORAS }),
  workflow_version: text({ max: 200, singleLine: true }),
  prompt_text: text({ max: 100_000 }),
  negative_prompt: text({ max: 100_000 }),
  cfg_scale: finite({ min: 0, max: 1000 }),
  steps: int({ min: 1, max: 100_000 }),
  sampler: text({ max: 100, allowEmpty: false, singleLine: true }),
  resolution_width: int({ min: 1, max: 65_536 }),
  resolution_height: int({ min: 1, max: 65_536 }),
  additional_params: struct({ maxBytes: 64 * 1024 }),
  generation_started_at: timestamp({ required: true }),
  regeneration_job_id: optionalId(),
  supersedes_segment_id: optionalId(),
  idempotency_key: id({ max: 255 }),
  reproduction_of_receipt_id: optionalId(),
});

const completeReceiptRules = defineRules(CompleteReceiptRequestSchema, {
  receipt_id: id(),
  status: enumValue({ allowed: [ReceiptStatus.SUCCEEDED, ReceiptStatus.FAILED] }),
  generation_completed_at: timestamp({ required: true }),
  output_hash: optionalSha256(),
});

/** A reference a LEGACY receipt knows: its asset, maybe its version, maybe not its content hash. */
const legacyAssetRef = () => message({ asset_id: id(), content_hash: optionalSha256(), version: int({ min: 0, max: MAX_ASSET_VERSION }) });

/** What is known of a segment made before receipts were recorded: the CreateReceipt bounds, every parameter optional. */
const legacySegmentRules = defineRules(LegacySegmentSchema, {
  segment_id: id(),
  scene_id: id(),
  project_id: id(),
  character_name: text({ max: 200, singleLine: true }),
  sequence_index: int({ min: 0, max: 1_000_000 }),
  source_image: optional(legacyAssetRef()),
  variant_image: optional(legacyAssetRef()),
  workflow: optional(legacyAssetRef()),
  model: optional(legacyAssetRef()),
  loras: each(message({ asset: required(legacyAssetRef()), weight: finite({ min: -100, max: 100 }) }), { max: MAX_LORAS }),
  workflow_version: text({ max: 200, singleLine: true }),
  prompt_text: optional(text({ max: 100_000 })),
  negative_prompt: optional(text({ max: 100_000 })),
  cfg_scale: optional(finite({ min: 0, max: 1000 })),
  steps: optional(int({ min: 1, max: 100_000 })),
  sampler: optional(text({ max: 100, allowEmpty: false, singleLine: true })),
  resolution_width: optional(int({ min: 1, max: 65_536 })),
  resolution_height: optional(int({ min: 1, max: 65_536 })),
  additional_params: struct({ maxBytes: 64 * 1024 }),
  generated_at: timestamp({ required: true }),
  output_hash: optionalSha256(),
});

/**
 * Page tokens of the list RPCs hold ids (up to 200 characters, any script): up to ~2,200 base64 characters, above the
 * shared 1,024 default.
 */
const LIST_PAGE_TOKEN_MAX = 4096;

/** Every rule table of ReceiptService. */
export const receiptRules: readonly RuleTable[] = [
  createReceiptRules,
  completeReceiptRules,
  // Each entry by its single call's table; paths read receipts[i].<field>.
  defineRules(CreateReceiptsRequestSchema, { receipts: each(message(createReceiptRules), { min: 1, max: MAX_BATCH }) }),
  defineRules(CompleteReceiptsRequestSchema, { receipts: each(message(completeReceiptRules), { min: 1, max: MAX_BATCH }) }),
  defineRules(GetReceiptRequestSchema, { receipt_id: id() }),
  // The receipt log: sizes are checked against the stored checkpoints by the use cases (receipt-log-proofs.ts).
  defineRules(GetCheckpointRequestSchema, {}),
  defineRules(GetReceiptProofRequestSchema, { receipt_id: id() }),
  defineRules(GetConsistencyProofRequestSchema, {}),
  defineRules(GetSegmentProvenanceRequestSchema, { segment_id: id() }),
  defineRules(BatchGetCurrentReceiptsRequestSchema, { segment_ids: each(id(), { min: 1, max: MAX_CURRENT_RECEIPT_SEGMENTS }) }),
  defineRules(GetAssetUsageRequestSchema, {
    asset_id: id(),
    version: int({ min: 0, max: MAX_ASSET_VERSION }),
    content_hash: optionalSha256(),
    page_size: pageSize(),
    page_token: pageToken(),
  }),
  defineRules(FindReceiptsByInputsHashRequestSchema, {
    inputs_hash: sha256(),
    page_size: pageSize(),
    page_token: pageToken(),
  }),
  defineRules(ListProjectsRequestSchema, {
    page_size: pageSize(),
    page_token: pageToken({ max: LIST_PAGE_TOKEN_MAX }),
  }),
  defineRules(GetGenerationDurationsRequestSchema, {
    keys: each(
      message({
        workflow_asset_id: optionalId(),
        model_asset_id: optionalId(),
        resolution_width: int({ min: 0, max: 65_536 }),
        resolution_height: int({ min: 0, max: 65_536 }),
        steps: int({ min: 0, max: 100_000 }),
      }),
      { min: 1, max: MAX_DURATION_KEYS },
    ),
  }),
  defineRules(ListSegmentsRequestSchema, {
    project_id: id(),
    scene_id: optionalId(),
    page_size: pageSize(),
    page_token: pageToken({ max: LIST_PAGE_TOKEN_MAX }),
  }),
  defineRules(CompareReceiptsRequestSchema, { left_receipt_id: id(), right_receipt_id: id() }),
  defineRules(ImportLegacySegmentsRequestSchema, { segments: each(message(legacySegmentRules), { min: 1, max: MAX_BATCH }) }),
  defineRules(GetCoverageRequestSchema, { project_id: optionalId() }),
];
