import { describe, expect, it } from "vitest";
import { encodePageToken } from "@provenance/shared";
import { thrownBy } from "../../test/receipt-fixtures.js";
import { parseSeqCursor, parseUsageCursor, seqCursorToken, usageCursorToken } from "./page-cursors.js";

function expectBadToken(f: () => unknown): void {
  const err = thrownBy(f);
  expect(err.code).toBe("invalid_argument");
  expect(err.field).toBe("page_token");
}

describe("page cursors", () => {
  it("each token round-trips its position; an empty token is the first page", () => {
    expect(parseUsageCursor(usageCursorToken({ receiptSeq: 12n, role: "lora", position: 3 }))).toEqual({ receiptSeq: 12n, role: "lora", position: 3 });
    expect(parseSeqCursor(seqCursorToken(99n))).toBe(99n);
    for (const parse of [parseUsageCursor, parseSeqCursor]) expect(parse("")).toBeUndefined();
  });

  it("a token this service did not make is INVALID_ARGUMENT on page_token", () => {
    expectBadToken(() => parseUsageCursor("garbage"));
    expectBadToken(() => parseUsageCursor(encodePageToken("12:hat:0")));
    expectBadToken(() => parseSeqCursor(encodePageToken("abc")));
  });
});
