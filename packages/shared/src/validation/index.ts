export { defineRules, message, tablesFor, validate } from "./rule-table.js";
export type { FieldRules, Refinement, RuleTable } from "./rule-table.js";
export {
  custom,
  each,
  enumValue,
  finite,
  id,
  int,
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
} from "./rules.js";
export type { EachOptions, EnumOptions, IdOptions, RangeOptions, TextOptions } from "./rules.js";
export type { Check, Rule, RuleTarget, Violation } from "./rule.js";
export { MAX_ASSET_VERSION, assetRef } from "./asset-ref-rule.js";
export { validationInterceptor } from "./validation-interceptor.js";
export { DEFAULT_REQUEST_LIMITS, assertRequestLimits, checkRequestLimits, requestLimits } from "./request-limits.js";
export type { RequestLimitOverrides, RequestLimits } from "./request-limits.js";
export { codePointCount, describeTextFault, quoted } from "./text-checks.js";
