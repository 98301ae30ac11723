/** The input rules of every AssetService and StalenessService request, declared once and enforced by the interceptor. */
import {
  GetAssetRequestSchema,
  GetStalenessReportRequestSchema,
  GetVersionRequestSchema,
  ListAssetsRequestSchema,
  ListStaleSegmentsRequestSchema,
  ListVersionsRequestSchema,
  PublishVersionRequestSchema,
  RegisterAssetRequestSchema,
  SetCurrentVersionRequestSchema,
  WatchStalenessRequestSchema,
  defineRules,
  enumValue,
  id,
  int,
  optionalId,
  pageSize,
  pageToken,
  sha256,
  text,
  type RuleTable,
} from "@provenance/shared";

const version = int({ min: 1, max: 2147483647 });

/** Every rule table of the staleness service. */
export const stalenessRules: readonly RuleTable[] = [
  defineRules(RegisterAssetRequestSchema, {
    asset_id: optionalId(),
    kind: enumValue(),
    name: text({ max: 200, allowEmpty: false, singleLine: true }),
    project_id: optionalId(),
  }),
  defineRules(PublishVersionRequestSchema, {
    asset_id: id(),
    content_hash: sha256(),
    // Ignored (the uploader is the token's sub) and so optional; still bounded, as every field is.
    uploaded_by: text({ max: 200, allowEmpty: true, singleLine: true }),
    note: text({ max: 2000 }),
  }),
  defineRules(SetCurrentVersionRequestSchema, { asset_id: id(), version }),
  defineRules(GetAssetRequestSchema, { asset_id: id() }),
  defineRules(ListAssetsRequestSchema, {
    project_id: optionalId(),
    kind: enumValue({ required: false }),
    page_size: pageSize(),
    page_token: pageToken(),
  }),
  defineRules(ListVersionsRequestSchema, { asset_id: id(), page_size: pageSize(), page_token: pageToken() }),
  defineRules(GetVersionRequestSchema, { asset_id: id(), version }),
  defineRules(GetStalenessReportRequestSchema, { project_id: optionalId() }),
  defineRules(ListStaleSegmentsRequestSchema, {
    project_id: optionalId(),
    asset_id: optionalId(),
    page_size: pageSize(),
    page_token: pageToken(),
  }),
  defineRules(WatchStalenessRequestSchema, { project_id: optionalId() }),
];
