/**
 * The access table: for every RPC of the provenance API, the role it needs and where the project it acts on comes
 * from. A method missing here is refused (PERMISSION_DENIED); access-table.test.ts fails when the generated
 * descriptors have a method without an entry, so a new RPC cannot ship unguarded.
 */
import type { Role } from "./roles.js";

/** The kinds of item a service resolves to their project (the service supplies a resolver for each it serves). */
export type ItemKind = "receipt" | "segment" | "asset" | "batch" | "reproduction";

/** Every {@link ItemKind}. */
export const ITEM_KINDS: readonly ItemKind[] = ["receipt", "segment", "asset", "batch", "reproduction"];

/**
 * What a NOT_FOUND for a hidden item says, so it reads exactly like the handler's own: `<what> "<id>" not found`, where
 * `id` is a template of request field names in braces (e.g. `{asset_id} v{version}`).
 */
export interface NotFoundText {
  readonly what: string;
  readonly id: string;
}

/**
 * Where a rule's project comes from. `field` is a proto field path of the request: `project_id`, or
 * `receipts[].project_id` for every entry of a repeated field. `whenEmpty` says what an empty value means:
 * `invalid` → INVALID_ARGUMENT naming the field; `shared` → the item has no project (only a grant on `*` covers it);
 * `ignore` → this source names no project (an optional filter).
 */
export type ProjectSource =
  /** The request names the project. Denied → PERMISSION_DENIED (the caller named it, so nothing is revealed). */
  | { readonly from: "field"; readonly field: string; readonly whenEmpty: "invalid" | "shared" | "ignore" }
  /**
   * The request names an item; the service's resolver for `item` gives its project. Denied → NOT_FOUND for a read
   * (with {@link NotFoundText}, existence not revealed), PERMISSION_DENIED for a write. Unknown ids are left to the
   * handler, which answers NOT_FOUND.
   */
  | {
      readonly from: "lookup";
      readonly item: ItemKind;
      readonly field: string;
      readonly whenEmpty: "invalid" | "ignore";
      readonly notFound?: NotFoundText;
    };

/** What one RPC needs. */
export interface AccessRule {
  /** The role required in every project the request names or touches; `viewer` rules are reads. */
  readonly role: Role;
  /** Where those projects come from; each value found must pass. None found → the role in some project suffices. */
  readonly projects: readonly ProjectSource[];
  /**
   * A list, report, usage query or stream: the handler must return only what the caller may view, using
   * `callerOf(ctx).viewable` (when a project filter is given, the decision has already checked it).
   */
  readonly filtered: boolean;
}

/** Full RPC name → rule; keys read `provenance.v1.ReceiptService/CreateReceipt`. */
export type AccessTable = Readonly<Record<string, AccessRule>>;

const field = (path: string, whenEmpty: "invalid" | "shared" | "ignore" = "invalid"): ProjectSource => ({ from: "field", field: path, whenEmpty });
const lookup = (item: ItemKind, path: string, notFound?: NotFoundText): ProjectSource =>
  notFound ? { from: "lookup", item, field: path, whenEmpty: "invalid", notFound } : { from: "lookup", item, field: path, whenEmpty: "invalid" };
const rule = (role: Role, projects: ProjectSource[], filtered = false): AccessRule => ({ role, projects, filtered });

const R = "provenance.v1.ReceiptService/";
const A = "provenance.v1.AssetService/";
const S = "provenance.v1.StalenessService/";
const G = "provenance.v1.RegenerationService/";

/**
 * The contract's roles per RPC: viewer for every read (receipts, usage, staleness, versions, plans, batches, watch,
 * projects, segments), pipeline to create and complete receipts, creator to publish and set current versions and to
 * submit regeneration, admin to register assets. Receipts' segment placement and supersession (same project only)
 * are the receipts service's own rules, checked where it reads the segments anyway.
 */
export const ACCESS_TABLE: AccessTable = Object.freeze({
  [`${R}CreateReceipt`]: rule("pipeline", [field("project_id")]),
  [`${R}CompleteReceipt`]: rule("pipeline", [lookup("receipt", "receipt_id")]),
  [`${R}CreateReceipts`]: rule("pipeline", [field("receipts[].project_id")]),
  [`${R}CompleteReceipts`]: rule("pipeline", [lookup("receipt", "receipts[].receipt_id")]),
  [`${R}GetReceipt`]: rule("viewer", [lookup("receipt", "receipt_id")]),
  [`${R}GetSegmentProvenance`]: rule("viewer", [lookup("segment", "segment_id")]),
  // Filtered, not looked up: segments of projects the caller may not view are left out of the answer, as unknown ones.
  [`${R}BatchGetCurrentReceipts`]: rule("viewer", [], true),
  [`${R}GetAssetUsage`]: rule("viewer", [], true),
  [`${R}FindReceiptsByInputsHash`]: rule("viewer", [], true),
  [`${R}ListProjects`]: rule("viewer", [], true),
  [`${R}ListSegments`]: rule("viewer", [field("project_id")]),
  // Both receipts must be viewable: one that is not is NOT_FOUND, as a missing one.
  [`${R}CompareReceipts`]: rule("viewer", [lookup("receipt", "left_receipt_id"), lookup("receipt", "right_receipt_id")]),
  [`${R}ImportLegacySegments`]: rule("admin", [field("segments[].project_id")]),
  [`${R}GetCoverage`]: rule("viewer", [field("project_id", "ignore")], true),
  [`${R}GetGenerationDurations`]: rule("viewer", [], true),
  // The receipt log is one log of every project: its checkpoints and consistency proofs name no receipt, so a viewer of
  // any project may read them; a receipt's proof is readable where the receipt is.
  [`${R}GetCheckpoint`]: rule("viewer", []),
  [`${R}GetReceiptProof`]: rule("viewer", [lookup("receipt", "receipt_id")]),
  [`${R}GetConsistencyProof`]: rule("viewer", []),

  [`${A}RegisterAsset`]: rule("admin", [field("project_id", "shared")]),
  [`${A}PublishVersion`]: rule("creator", [lookup("asset", "asset_id")]),
  [`${A}SetCurrentVersion`]: rule("creator", [lookup("asset", "asset_id")]),
  [`${A}GetAsset`]: rule("viewer", [lookup("asset", "asset_id")]),
  [`${A}ListAssets`]: rule("viewer", [field("project_id", "ignore")], true),
  [`${A}ListVersions`]: rule("viewer", [lookup("asset", "asset_id")]),
  [`${A}GetVersion`]: rule("viewer", [lookup("asset", "asset_id", { what: "asset version", id: "{asset_id} v{version}" })]),

  [`${S}GetStalenessReport`]: rule("viewer", [field("project_id", "ignore")], true),
  [`${S}ListStaleSegments`]: rule("viewer", [field("project_id", "ignore")], true),
  [`${S}WatchStaleness`]: rule("viewer", [field("project_id", "ignore")], true),
  // The pin's segments and scene must be of project_id: the staleness service checks that where it reads them anyway.
  [`${S}PinSegments`]: rule("creator", [field("project_id")]),
  [`${S}UnpinSegments`]: rule("creator", [field("project_id")]),
  [`${S}ListPins`]: rule("viewer", [field("project_id")]),

  [`${G}PlanRegeneration`]: rule("viewer", [field("project_id")]),
  [`${G}SubmitRegeneration`]: rule("creator", [field("project_id")]),
  [`${G}GetRegenerationBatch`]: rule("viewer", [lookup("batch", "batch_id", { what: "regeneration batch", id: "{batch_id}" })]),
  [`${G}ListRegenerationJobs`]: rule("viewer", [field("project_id", "ignore")], true),
  // The receipt (or segment) must be of project_id: the regeneration service checks that where it reads it anyway.
  [`${G}ReproduceSegment`]: rule("creator", [field("project_id")]),
  [`${G}GetReproduction`]: rule("viewer", [lookup("reproduction", "job_id", { what: "reproduction", id: "{job_id}" })]),
  [`${G}ListReproductions`]: rule("viewer", [field("project_id")]),
});

/** Services that need no token: gRPC health and server reflection (probes and tools call them anonymously). */
export const PUBLIC_SERVICES: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/** The REST routes of the contract and the RPC whose rule each one is decided by (the same decision). */
export const REST_ROUTE_PROCEDURES: Readonly<Record<string, string>> = Object.freeze({
  "GET /api/segments/:id/provenance": `${R}GetSegmentProvenance`,
  "GET /api/assets/:id/usage": `${R}GetAssetUsage`,
  "GET /api/projects/:id/staleness-report": `${S}GetStalenessReport`,
  "POST /api/projects/:id/regenerate-stale": `${G}SubmitRegeneration`,
  "GET /api/receipts/:left/compare/:right": `${R}CompareReceipts`,
  "GET /api/coverage": `${R}GetCoverage`,
  "GET /api/projects/:id/coverage": `${R}GetCoverage`,
});

/** The text of a hidden item's NOT_FOUND when the rule gives none: the handlers' own nouns. */
export const ITEM_NOT_FOUND_NOUNS: Readonly<Record<ItemKind, string>> = {
  receipt: "receipt",
  segment: "segment",
  asset: "asset",
  batch: "regeneration batch",
  reproduction: "reproduction",
};
