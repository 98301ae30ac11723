/** The request limits walk every request's descriptor: unit tests of the walk, the text checks and the error mapping. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { StructSchema, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { MAX_ERROR_MESSAGE_CHARS, clientFacingError, headerSafe, toConnectError } from "../src/errors/index.js";
import {
  CreateReceiptRequestSchema,
  CreateReceiptsRequestSchema,
  PublishVersionRequestSchema,
  SubmitRegenerationRequestSchema,
  type CreateReceiptRequest,
} from "../src/index.js";
import {
  DEFAULT_REQUEST_LIMITS,
  checkRequestLimits,
  codePointCount,
  defineRules,
  describeTextFault,
  quoted,
  requestLimits,
  text,
  validate,
} from "../src/validation/index.js";

const receipt = (init: MessageInitShape<typeof CreateReceiptRequestSchema>) => create(CreateReceiptRequestSchema, init);
const violation = (m: CreateReceiptRequest, limits = DEFAULT_REQUEST_LIMITS) => checkRequestLimits(CreateReceiptRequestSchema, m, limits);

describe("checkRequestLimits", () => {
  it("passes an ordinary request", () => {
    expect(violation(receipt({ segmentId: "s", promptText: "a dolly-in", loras: [{ weight: 1 }], additionalParams: { a: [1, "b", { c: null }] } }))).toBeUndefined();
  });

  it("bounds every string field in UTF-8 bytes, named or not", () => {
    expect(violation(receipt({ workflowVersion: "v".repeat(512) }))).toBeUndefined();
    expect(violation(receipt({ workflowVersion: "v".repeat(513) }))).toEqual({ field: "workflow_version", message: "is 513 bytes long (UTF-8); at most 512 are allowed" });
    // 200 characters, 800 bytes.
    expect(violation(receipt({ characterName: "😀".repeat(200) }))?.message).toBe("is 800 bytes long (UTF-8); at most 512 are allowed");
  });

  it("reports a huge string without scanning it", () => {
    const started = performance.now();
    expect(violation(receipt({ promptText: "x".repeat(50_000_000) }))?.message).toBe("is at least 50000000 bytes long (UTF-8); at most 65536 are allowed");
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("walks nested messages, lists and oneofs, naming the path", () => {
    const m = receipt({ loras: [{ weight: 1 }, { asset: { assetId: "x".repeat(600) } }] });
    expect(violation(m)?.field).toBe("loras[1].asset.asset_id");
    const batch = create(CreateReceiptsRequestSchema, { receipts: [receipt({}), receipt({ sampler: "\u0000" })] });
    expect(checkRequestLimits(CreateReceiptsRequestSchema, batch)).toEqual({
      field: "receipts[1].sampler",
      message: "must not contain NUL characters (U+0000); found one at offset 0",
    });
  });

  it("bounds lists: 64 LoRAs, 1,000 messages a batch, 10,000 ids", () => {
    expect(violation(receipt({ loras: Array.from({ length: 65 }, () => ({})) }))).toEqual({ field: "loras", message: "has 65 entries; at most 64 are allowed" });
    const ids = (n: number) => create(SubmitRegenerationRequestSchema, { segmentIds: Array.from({ length: n }, (_, i) => `s${i}`) });
    expect(checkRequestLimits(SubmitRegenerationRequestSchema, ids(10_000))).toBeUndefined();
    expect(checkRequestLimits(SubmitRegenerationRequestSchema, ids(10_001))?.message).toBe("has 10001 entries; at most 10000 are allowed");
  });

  it("checks Structs: depth, size, text, and numbers JSON cannot carry", () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 31; i++) deep = { d: deep };
    expect(violation(receipt({ additionalParams: deep as never }))).toBeUndefined(); // 32 levels
    expect(violation(receipt({ additionalParams: { d: deep } as never }))?.message).toBe("nests deeper than 32 levels; flatten it");
    const big = receipt({ additionalParams: { a: "x".repeat(40_000), b: "y".repeat(40_000) } });
    expect(violation(big)?.message).toMatch(/^is at least \d+ bytes as JSON; at most 65536 are allowed$/);
    expect(violation(receipt({ additionalParams: { "\ud800": 1 } }))?.message).toBe(
      'has the key "\\ud800", which must be well-formed Unicode; found a lone surrogate (U+D800) at offset 0',
    );
    expect(violation(receipt({ additionalParams: { n: Number.NaN } }))).toEqual({ field: "additional_params.n", message: "must be a finite number; got NaN" });
  });

  it("checks a boxed Struct or Value message as well as an unboxed one", () => {
    const value = create(ValueSchema, { kind: { case: "stringValue", value: "a\u0000" } });
    expect(checkRequestLimits(ValueSchema, value)?.message).toContain("NUL");
    const struct = create(StructSchema, { fields: { k: value } });
    expect(checkRequestLimits(StructSchema, struct)?.field).toBe("fields[\"k\"]");
  });

  it("takes overrides per field name or full name, the full name first", () => {
    const limits = requestLimits({ fieldBytes: { note: 100, "provenance.v1.PublishVersionRequest.note": 10 } });
    const publish = (note: string) => checkRequestLimits(PublishVersionRequestSchema, create(PublishVersionRequestSchema, { note }), limits);
    expect(publish("n".repeat(10))).toBeUndefined();
    expect(publish("n".repeat(11))?.message).toBe("is 11 bytes long (UTF-8); at most 10 are allowed");
    expect(limits.fieldBytes.prompt_text).toBe(64 * 1024); // the other defaults stay
    expect(DEFAULT_REQUEST_LIMITS.fieldBytes.note).toBe(8 * 1024);
  });

  it("runs before the tables in validate(), so a table cannot loosen it", () => {
    const loose = defineRules(CreateReceiptRequestSchema, { prompt_text: text({ max: 1_000_000 }) });
    expect(() => validate(CreateReceiptRequestSchema, receipt({ promptText: "x".repeat(70_000) }), loose)).toThrow(
      "prompt_text: is 70000 bytes long (UTF-8); at most 65536 are allowed",
    );
  });
});

describe("text checks", () => {
  it("counts code points without building an array", () => {
    expect(codePointCount("a😀b")).toBe(3);
    expect(codePointCount("\ud800")).toBe(1);
    const long = "😀".repeat(5_000_000);
    expect(codePointCount(long)).toBe(5_000_000);
    expect(defineRules(CreateReceiptRequestSchema, { prompt_text: text({ max: 4_999_999 }) }).check(receipt({ promptText: long }))?.message).toBe(
      "is 5000000 characters long; at most 4999999 are allowed",
    );
  });

  it("finds NUL and lone surrogates, and accepts pairs", () => {
    expect(describeTextFault("fine 😀")).toBeUndefined();
    expect(describeTextFault("a\u0000")).toBe("must not contain NUL characters (U+0000); found one at offset 1");
    expect(describeTextFault("ab\udc00")).toBe("must be well-formed Unicode; found a lone surrogate (U+DC00) at offset 2");
    expect(describeTextFault("\ud83dx")).toContain("(U+D83D) at offset 0");
  });

  it("quotes at most 24 characters and never cuts a pair", () => {
    expect(quoted("abc")).toBe('"abc"');
    expect(quoted("x".repeat(10_000_000))).toBe(`"${"x".repeat(24)}…"`);
    expect(quoted(`${"x".repeat(23)}😀tail`)).toBe(`"${"x".repeat(23)}…"`);
  });
});

describe("clientFacingError", () => {
  it("maps connect's decode failures from INTERNAL to INVALID_ARGUMENT", () => {
    const e = clientFacingError(new ConnectError("parse binary: premature EOF", Code.Internal), { inputType: "provenance.v1.GetReceiptRequest" });
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.rawMessage).toBe("malformed protobuf: the request is not a valid provenance.v1.GetReceiptRequest in binary form (premature EOF)");
    expect(clientFacingError(new ConnectError("decompression failed", Code.Internal)).code).toBe(Code.InvalidArgument);
  });

  it("leaves real internal errors alone", () => {
    const internal = new ConnectError("internal error", Code.Internal);
    expect(clientFacingError(internal)).toBe(internal);
  });

  it("names MAX_REQUEST_BYTES for connect's read limit", () => {
    const e = clientFacingError(new ConnectError("message size 9000000 is larger than configured readMaxBytes 8388608", Code.ResourceExhausted));
    expect(e.rawMessage).toBe("request too large: MAX_REQUEST_BYTES allows 8388608 bytes per message, this one is 9000000 bytes");
  });

  it("names an unknown JSON field and a field that does not decode", () => {
    const unknown = clientFacingError(new ConnectError('cannot decode message provenance.v1.CreateReceiptRequest from JSON: key "seedd" is unknown', Code.InvalidArgument));
    expect(unknown.metadata.get("x-error-field")).toBe("seedd");
    const bad = clientFacingError(new ConnectError("cannot decode field provenance.v1.CreateReceiptRequest.steps from JSON: \"ten\"", Code.InvalidArgument));
    expect(bad.rawMessage).toBe('steps: "ten" (field of provenance.v1.CreateReceiptRequest)');
    expect(bad.metadata.get("x-error-field")).toBe("steps");
  });

  it("cuts every message, and the error mapping does too", () => {
    const long = new ConnectError("x".repeat(100_000), Code.NotFound);
    expect(clientFacingError(long).rawMessage.length).toBe(MAX_ERROR_MESSAGE_CHARS);
    expect(toConnectError(new ConnectError("y".repeat(5000), Code.InvalidArgument)).rawMessage.endsWith("…")).toBe(true);
  });

  it("keeps header values printable ASCII", () => {
    expect(headerSafe('additional_params["é…"]')).toBe('additional_params["\\u00e9\\u2026"]');
    expect(headerSafe("a".repeat(1000))).toHaveLength(200);
  });
});
