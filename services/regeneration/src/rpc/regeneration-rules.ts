/** The input rules of every RegenerationService request, declared once; enforced by the validation interceptor. */
import {
  GetRegenerationBatchRequestSchema,
  GetReproductionRequestSchema,
  ListRegenerationJobsRequestSchema,
  ListReproductionsRequestSchema,
  PlanRegenerationRequestSchema,
  ReproduceSegmentRequestSchema,
  SubmitRegenerationRequestSchema,
  defineRules,
  each,
  enumValue,
  id,
  optionalId,
  pageSize,
  pageToken,
  text,
  type RuleTable,
} from "@provenance/shared";

/** Most segment ids one selection may name. */
export const MAX_SELECTED_SEGMENTS = 10_000;
/** Most scene ids one selection may name. */
export const MAX_SELECTED_SCENES = 1_000;

const selectionRules = {
  project_id: id(),
  segment_ids: each(id(), { max: MAX_SELECTED_SEGMENTS }),
  scene_ids: each(id(), { max: MAX_SELECTED_SCENES }),
  asset_id: optionalId(),
};

/** Every rule table of RegenerationService. */
export const regenerationRules: readonly RuleTable[] = [
  defineRules(PlanRegenerationRequestSchema, selectionRules),
  defineRules(SubmitRegenerationRequestSchema, {
    ...selectionRules,
    idempotency_key: id({ max: 255 }),
    // Ignored (the requester is the token's sub) and so optional; still bounded, as every field is.
    requested_by: text({ max: 200, allowEmpty: true, singleLine: true }),
  }),
  defineRules(GetRegenerationBatchRequestSchema, { batch_id: id() }),
  defineRules(
    ReproduceSegmentRequestSchema,
    { project_id: id(), receipt_id: optionalId(), segment_id: optionalId(), idempotency_key: id({ max: 255 }) },
    {
      refine: (req) =>
        (req.receiptId === "") === (req.segmentId === "")
          ? { field: "receipt_id", message: "give exactly one of receipt_id and segment_id: the receipt to reproduce, or a segment whose current receipt is" }
          : undefined,
    },
  ),
  defineRules(GetReproductionRequestSchema, { job_id: id() }),
  defineRules(ListReproductionsRequestSchema, {
    project_id: id(),
    receipt_id: optionalId(),
    segment_id: optionalId(),
    page_size: pageSize(),
    page_token: pageToken(),
  }),
  defineRules(
    ListRegenerationJobsRequestSchema,
    {
      batch_id: optionalId(),
      project_id: optionalId(),
      status: enumValue({ required: false }),
      page_size: pageSize(),
      page_token: pageToken(),
    },
    {
      refine: (req) =>
        req.batchId === "" && req.projectId === ""
          ? { field: "batch_id", message: "is required unless project_id is given: list the jobs of a batch or of a project" }
          : undefined,
    },
  ),
];
