import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { ReceiptSchema } from "../gen/provenance/v1/common_pb.js";
import { encodeStringsNatively } from "./native-utf8.js";

describe("encodeStringsNatively", () => {
  it("encodes every string to the bytes a TextEncoder gives, lone surrogates included", () => {
    const samples = ["", "seg-001", "Ärger über Straße", "雪の中のアンナ", "emoji 🎬 ok", "lone \ud800 high", "lone \udc00 low"];
    const before = samples.map((s) => toBinary(ReceiptSchema, create(ReceiptSchema, { promptText: s, segmentId: s })));
    encodeStringsNatively();
    encodeStringsNatively(); // idempotent
    const after = samples.map((s) => toBinary(ReceiptSchema, create(ReceiptSchema, { promptText: s, segmentId: s })));
    expect(after).toEqual(before);
    expect(Buffer.from(getTextEncoding().encodeUtf8("x\ud800"))).toEqual(Buffer.from(new TextEncoder().encode("x\ud800")));
    expect(fromBinary(ReceiptSchema, after[3]!).promptText).toBe("雪の中のアンナ");
  });
});
