import { create } from "@bufbuild/protobuf";
import { StructSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { DomainError } from "../src/errors/index.js";
import {
  AssetKind,
  CompleteReceiptRequestSchema,
  CreateReceiptRequestSchema,
  GetAssetUsageRequestSchema,
  LoraInputSchema,
  ListAssetsRequestSchema,
  PublishVersionRequestSchema,
  ReceiptStatus,
  RegisterAssetRequestSchema,
  type CreateReceiptRequest,
} from "../src/index.js";
import {
  assetRef,
  custom,
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
  validate,
  type RuleTable,
} from "../src/validation/index.js";

const HASH = "a".repeat(64);

const createRules = defineRules(CreateReceiptRequestSchema, {
  segment_id: id(),
  scene_id: id(),
  project_id: id(),
  character_name: text({ max: 200 }),
  source_image: required(assetRef()),
  variant_image: optional(assetRef()),
  workflow: required(assetRef()),
  model: required(assetRef()),
  loras: each(message({ asset: required(assetRef()), weight: finite({ min: -10, max: 10 }) }), { max: 32 }),
  prompt_text: text({ max: 20000, allowEmpty: false }),
  negative_prompt: text({ max: 20000 }),
  cfg_scale: finite({ min: 0, max: 100 }),
  steps: int({ min: 1, max: 10000 }),
  resolution_width: int({ min: 1, max: 8192 }),
  additional_params: struct({ maxBytes: 1024 }),
  generation_started_at: timestamp({ required: true }),
  regeneration_job_id: optionalId(),
  supersedes_segment_id: optionalId(),
  idempotency_key: id(),
});

function validRequest(overrides: Partial<CreateReceiptRequest> = {}): CreateReceiptRequest {
  const ref = (assetId: string) => ({ assetId, contentHash: HASH, version: 1 });
  const base = create(CreateReceiptRequestSchema, {
    segmentId: "seg-1",
    sceneId: "scene-1",
    projectId: "42",
    characterName: "anna",
    sourceImage: ref("src"),
    workflow: ref("wf"),
    model: ref("model"),
    loras: [{ asset: ref("l1"), weight: 0.8 }, { asset: ref("l2"), weight: 1 }],
    promptText: "anna walks",
    cfgScale: 7,
    steps: 30,
    resolutionWidth: 832,
    generationStartedAt: timestampFromDate(new Date("2026-11-21T10:00:00Z")),
    idempotencyKey: "k-1",
  });
  return Object.assign(base, overrides);
}

/** The violation `validate` reports, as "field: message", or "ok". */
function outcome(req: CreateReceiptRequest, table: RuleTable = createRules): string {
  try {
    validate(CreateReceiptRequestSchema, req, [table]);
    return "ok";
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    const e = err as DomainError;
    expect(e.code).toBe("invalid_argument");
    expect(e.message.startsWith(`${e.field}: `)).toBe(true);
    return e.message;
  }
}

describe("a rule table", () => {
  it("accepts a valid request", () => {
    expect(outcome(validRequest())).toBe("ok");
  });

  it.each<[string, Partial<CreateReceiptRequest>, string]>([
    ["empty id", { segmentId: "" }, "segment_id: is required"],
    ["id with a space", { segmentId: "seg 1" }, "segment_id: must not contain whitespace or control characters; found U+0020 at offset 3"],
    ["id with a control char", { sceneId: "a\u0007" }, "scene_id: must not contain whitespace"],
    ["too long id", { projectId: "x".repeat(201) }, "project_id: is 201 characters long; an id has at most 200"],
    ["missing message", { sourceImage: undefined }, "source_image: is required: send an AssetRef"],
    ["nested hash", { sourceImage: { $typeName: "provenance.v1.AssetRef", assetId: "s", contentHash: "abc", version: 1 } }, "source_image.content_hash: must be 64 hex digits (a SHA-256); got 3 characters \"abc\""],
    ["prefixed hash", { model: { $typeName: "provenance.v1.AssetRef", assetId: "m", contentHash: `sha256:${HASH}`, version: 1 } }, 'model.content_hash: must be the bare 64 hex digits of a SHA-256, without an algorithm prefix like "sha256:"'],
    ["empty nested id", { workflow: { $typeName: "provenance.v1.AssetRef", assetId: "", contentHash: HASH, version: 0 } }, "workflow.asset_id: is required"],
    ["empty prompt", { promptText: "" }, "prompt_text: is required: send non-empty text"],
    ["NUL in prompt", { promptText: "a\u0000b" }, "prompt_text: must not contain NUL characters"],
    ["NaN cfg", { cfgScale: Number.NaN }, "cfg_scale: must be a finite number; got NaN"],
    ["Infinity cfg", { cfgScale: Number.POSITIVE_INFINITY }, "cfg_scale: must be a finite number; got Infinity"],
    ["cfg out of range", { cfgScale: 101 }, "cfg_scale: must be between 0 and 100; got 101"],
    ["steps 0", { steps: 0 }, "steps: must be between 1 and 10000; got 0"],
    ["missing timestamp", { generationStartedAt: undefined }, "generation_started_at: is required: send a timestamp"],
    ["timestamp nanos", { generationStartedAt: { $typeName: "google.protobuf.Timestamp", seconds: 1n, nanos: -1 } }, "generation_started_at: has nanos -1"],
    ["timestamp beyond year 9999", { generationStartedAt: { $typeName: "google.protobuf.Timestamp", seconds: 253402300800n, nanos: 0 } }, "generation_started_at: must lie between"],
    ["optional id with whitespace", { supersedesSegmentId: "a b" }, "supersedes_segment_id: must not contain whitespace"],
    ["struct too big", { additionalParams: { blob: "x".repeat(2000) } }, "additional_params: is 2011 bytes as JSON; at most 1024 are allowed"],
  ])("rejects %s", (_, overrides, expected) => {
    expect(outcome(validRequest(overrides))).toContain(expected);
  });

  it("names the element of a repeated field by index", () => {
    const req = validRequest();
    req.loras[1]!.asset!.contentHash = "z".repeat(64);
    expect(outcome(req)).toMatch(/^loras\[1\]\.asset\.content_hash: must be 64 hex digits/);
    req.loras[1]!.asset = undefined;
    expect(outcome(req)).toBe("loras[1].asset: is required: send an AssetRef");
    req.loras[1] = create(LoraInputSchema, { asset: { assetId: "l", contentHash: HASH }, weight: Number.NaN });
    expect(outcome(req)).toBe("loras[1].weight: must be a finite number; got NaN");
  });

  it("limits the number of elements", () => {
    const loras = Array.from({ length: 33 }, () => ({ asset: { assetId: "l", contentHash: HASH }, weight: 1 }));
    expect(outcome(validRequest({ loras: loras.map((l) => create(LoraInputSchema, l)) }))).toBe(
      "loras: has 33 entries; at most 32 are allowed",
    );
  });

  it("accepts hashes in either case, optional messages absent and empty optional ids", () => {
    expect(outcome(validRequest({ model: { $typeName: "provenance.v1.AssetRef", assetId: "m", contentHash: "AB".repeat(32), version: 0 } }))).toBe("ok");
    expect(outcome(validRequest({ variantImage: undefined, regenerationJobId: "" }))).toBe("ok");
  });

  it("counts text length in characters, not UTF-16 units", () => {
    const table = defineRules(CreateReceiptRequestSchema, { character_name: text({ max: 3 }) });
    expect(outcome(validRequest({ characterName: "😀😀😀" }), table)).toBe("ok");
    expect(outcome(validRequest({ characterName: "😀😀😀😀" }), table)).toBe("character_name: is 4 characters long; at most 3 are allowed");
    const line = defineRules(CreateReceiptRequestSchema, { character_name: text({ max: 30, singleLine: true }) });
    expect(outcome(validRequest({ characterName: "a\nb" }), line)).toBe("character_name: must be a single line without control characters");
  });

  it("runs a refinement after the field rules", () => {
    const table = defineRules(
      CreateReceiptRequestSchema,
      { segment_id: id() },
      { refine: (m) => (m.supersedesSegmentId === m.segmentId ? { field: "supersedes_segment_id", message: "must differ from segment_id" } : undefined) },
    );
    expect(outcome(validRequest({ supersedesSegmentId: "seg-1" }), table)).toBe("supersedes_segment_id: must differ from segment_id");
    expect(outcome(validRequest({ segmentId: "" }), table)).toContain("segment_id: is required");
  });

  it("takes a custom rule", () => {
    const table = defineRules(CreateReceiptRequestSchema, { sampler: custom((v) => (v === "euler" || v === "" ? undefined : "must be a known sampler")) });
    expect(outcome(validRequest({ sampler: "dpm" }), table)).toBe("sampler: must be a known sampler");
  });

  it("reuses a table as a nested message rule", () => {
    const lora = defineRules(LoraInputSchema, { asset: required(assetRef()), weight: finite({ min: 0, max: 2 }) });
    const table = defineRules(CreateReceiptRequestSchema, { loras: each(message(lora), { max: 4, min: 1 }) });
    expect(outcome(validRequest({ loras: [] }), table)).toBe("loras: has 0 entries; at least 1 is required");
    const req = validRequest();
    req.loras[0]!.weight = 3;
    expect(outcome(req, table)).toBe("loras[0].weight: must be between 0 and 2; got 3");
  });
});

describe("enums, paging and presence", () => {
  const complete = defineRules(CompleteReceiptRequestSchema, {
    receipt_id: id(),
    status: enumValue({ allowed: [ReceiptStatus.SUCCEEDED, ReceiptStatus.FAILED] }),
    generation_completed_at: timestamp({ required: true }),
    output_hash: optionalSha256(),
  });
  const req = (status: number, outputHash = "") =>
    create(CompleteReceiptRequestSchema, { receiptId: "r", status, outputHash, generationCompletedAt: timestampFromDate(new Date()) });
  const outcomeOf = (m: ReturnType<typeof req>) => {
    try {
      validate(CompleteReceiptRequestSchema, m, complete);
      return "ok";
    } catch (err) {
      return (err as Error).message;
    }
  };

  it("rejects UNSPECIFIED, unknown and disallowed enum values", () => {
    expect(outcomeOf(req(ReceiptStatus.SUCCEEDED))).toBe("ok");
    expect(outcomeOf(req(ReceiptStatus.UNSPECIFIED))).toBe("status: is required: send one of RECEIPT_STATUS_SUCCEEDED, RECEIPT_STATUS_FAILED");
    expect(outcomeOf(req(ReceiptStatus.RUNNING))).toBe("status: must be one of RECEIPT_STATUS_SUCCEEDED, RECEIPT_STATUS_FAILED; got RECEIPT_STATUS_RUNNING");
    expect(outcomeOf(req(99))).toBe("status: has the unknown value 99; expected one of RECEIPT_STATUS_SUCCEEDED, RECEIPT_STATUS_FAILED");
  });

  it("accepts an empty optional hash and rejects a bad one", () => {
    expect(outcomeOf(req(ReceiptStatus.FAILED, ""))).toBe("ok");
    expect(outcomeOf(req(ReceiptStatus.FAILED, "xyz"))).toContain("output_hash: must be 64 hex digits");
  });

  it("allows UNSPECIFIED when not required, defaulting to every declared value", () => {
    const table = defineRules(ListAssetsRequestSchema, { kind: enumValue({ required: false }), page_size: pageSize(), page_token: pageToken() });
    const list = (kind: number, pageSizeValue = 0, token = "") => {
      try {
        validate(ListAssetsRequestSchema, create(ListAssetsRequestSchema, { kind, pageSize: pageSizeValue, pageToken: token }), table);
        return "ok";
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(list(AssetKind.UNSPECIFIED)).toBe("ok");
    expect(list(AssetKind.LORA)).toBe("ok");
    expect(list(17)).toContain("kind: has the unknown value 17; expected one of ASSET_KIND_MODEL");
    expect(list(0, 1000)).toBe("ok");
    expect(list(0, 1001)).toBe("page_size: must be between 0 and 1000 (0 = the default page size); got 1001");
    expect(list(0, 0, "djE6MTI")).toBe("ok");
    expect(list(0, 0, "not a token!")).toContain("page_token: is not a token this service returned");
  });

  it("checks proto3 optional scalars for presence", () => {
    const table = defineRules(PublishVersionRequestSchema, { asset_id: id(), content_hash: sha256(), make_current: required() });
    expect(() => validate(PublishVersionRequestSchema, create(PublishVersionRequestSchema, { assetId: "a", contentHash: HASH }), table)).toThrow(
      "make_current: is required: send a value",
    );
    expect(() => validate(PublishVersionRequestSchema, create(PublishVersionRequestSchema, { assetId: "a", contentHash: HASH, makeCurrent: false }), table)).not.toThrow();
  });

  it("checks 64-bit integers", () => {
    const table = defineRules(CreateReceiptRequestSchema, { seed: int({ max: 10n }) });
    expect(outcome(validRequest({ seed: 11n }), table)).toBe("seed: must be at most 10; got 11");
    expect(outcome(validRequest({ seed: 10n }), table)).toBe("ok");
  });
});

describe("definition-time checks", () => {
  it("rejects unknown field names, listing the real ones", () => {
    expect(() => defineRules(GetAssetUsageRequestSchema, { assetId: id() })).toThrow(/unknown field "assetId"; its fields are asset_id, version/);
    expect(() => defineRules(CreateReceiptRequestSchema, { source_image: message({ asset_ident: id() }) })).toThrow(/provenance.v1.AssetRef name the unknown field "asset_ident"/);
  });

  it("rejects rules that do not fit the field type", () => {
    expect(() => defineRules(CreateReceiptRequestSchema, { cfg_scale: id() })).toThrow("validation rule id() does not fit provenance.v1.CreateReceiptRequest.cfg_scale: it needs a string field");
    expect(() => defineRules(CreateReceiptRequestSchema, { steps: finite() })).toThrow(/finite\(\) does not fit/);
    expect(() => defineRules(CreateReceiptRequestSchema, { segment_id: required() })).toThrow(/required\(\) does not fit/);
    expect(() => defineRules(CreateReceiptRequestSchema, { segment_id: each(id(), { max: 1 }) })).toThrow(/each\(\) does not fit/);
    expect(() => defineRules(CreateReceiptRequestSchema, { additional_params: timestamp() })).toThrow(/timestamp\(\) does not fit/);
    expect(() => defineRules(CreateReceiptRequestSchema, { generation_started_at: struct({ maxBytes: 1 }) })).toThrow(/struct\(\) does not fit/);
    expect(() => defineRules(CreateReceiptRequestSchema, { loras: message(defineRules(StructSchema, {})) })).toThrow(/message\(\) does not fit/);
    expect(() => defineRules(RegisterAssetRequestSchema, { kind: enumValue({ allowed: [42] }) })).toThrow(/has no value 42/);
  });

  it("validate without tables uses every table defined for the schema, and refuses a schema without one", () => {
    expect(() => validate(CreateReceiptRequestSchema, validRequest({ steps: 0 }))).toThrow(/steps/);
    expect(() => validate(StructSchema, create(StructSchema), [createRules])).toThrow("no validation rules are defined for google.protobuf.Struct");
  });
});
