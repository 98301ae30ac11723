/** @provenance/comfyui: ComfyUI API-format prompts and /history entries → CreateReceipt requests. */
export { DEFAULT_WORKFLOW_ASSET_ID, MAX_ADDITIONAL_PARAMS_BYTES, receiptFromComfyPrompt } from "./receipt-request.js";
export type { ComfyReceipt, ComfyReceiptInput, ComfyReceiptOptions, ComfyRun } from "./receipt-request.js";
export { ComfyReceiptError } from "./errors.js";
export type { ComfyErrorSource, ComfyReceiptOptionName } from "./errors.js";
export { JsonSyntaxError, MAX_JSON_DEPTH, parseComfyJson, toPlainJson } from "./lossless-json.js";
export type { ComfyJson, ComfyJsonObject, PlainJson } from "./lossless-json.js";
export { UNTRACKED_ASSET_PREFIX, readAssetMap } from "./asset-map.js";
export type { AssetMap, MappedAsset } from "./asset-map.js";
export { readHistory } from "./history.js";
export type { HistoryEntry, OutputFile, RunOutcome } from "./history.js";
export { NO_VARIANT } from "./images.js";
export type { ImageRoleOptions } from "./images.js";
export { WORKFLOW_HASH_SPEC } from "./workflow-hash.js";
export { MAX_PARAM_VALUE_BYTES, MAX_PARAM_VALUE_DEPTH } from "./widget-params.js";
