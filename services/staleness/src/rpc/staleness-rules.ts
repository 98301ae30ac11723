/** The input rules of every AssetService and StalenessService request, declared once and enforced by the interceptor. */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  GetAssetRequestSchema,
  GetStalenessReportRequestSchema,
  GetVersionRequestSchema,
  ListAssetsRequestSchema,
  ListPinsRequestSchema,
  ListStaleSegmentsRequestSchema,
  ListVersionsRequestSchema,
  PinSegmentsRequestSchema,
  PublishVersionRequestSchema,
  RegisterAssetRequestSchema,
  SetCurrentVersionRequestSchema,
  UnpinSegmentsRequestSchema,
  WatchStalenessRequestSchema,
  defineRules,
  each,
  enumValue,
  id,
  int,
  optionalId,
  pageSize,
  pageToken,
  sha256,
  text,
  timestamp,
  type RuleTable,
} from "@provenance/shared";
import { MAX_PIN_SEGMENTS } from "../domain/pins.js";

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
  defineRules(
    PinSegmentsRequestSchema,
    {
      project_id: id(),
      scene_id: optionalId(),
      segment_ids: each(id(), { max: MAX_PIN_SEGMENTS }),
      asset_id: id(),
      version,
      reason: text({ max: 2000, allowEmpty: false }),
      expires_at: timestamp(),
    },
    {
      refine: (req) => {
        if (req.sceneId === "" && req.segmentIds.length === 0) return { field: "scene_id", message: "is required: send scene_id or segment_ids" };
        if (req.sceneId !== "" && req.segmentIds.length > 0) return { field: "segment_ids", message: "must be empty when scene_id is given: send one of them" };
        if (req.expiresAt && timestampDate(req.expiresAt).getTime() <= Date.now()) return { field: "expires_at", message: "must be in the future" };
        return undefined;
      },
    },
  ),
  defineRules(UnpinSegmentsRequestSchema, { project_id: id(), pin_id: id() }),
  defineRules(ListPinsRequestSchema, { project_id: id(), page_size: pageSize(), page_token: pageToken() }),
];
