import { describe, expect, it } from "vitest";
import { encodePageToken } from "@provenance/shared";
import { thrownBy } from "../../test/receipt-fixtures.js";
import {
  LIST_DEFAULT_PAGE_SIZE,
  listPageSize,
  pageOf,
  parseProjectCursor,
  parseSegmentCursor,
  parseSeqCursor,
  parseUsageCursor,
  projectCursorToken,
  segmentCursorToken,
  seqCursorToken,
  usageCursorToken,
} from "./page-cursors.js";

function expectBadToken(f: () => unknown): void {
  const err = thrownBy(f);
  expect(err.code).toBe("invalid_argument");
  expect(err.field).toBe("page_token");
}

describe("page cursors", () => {
  it("list page sizes: 0 is 100, at most 1000", () => {
    expect(LIST_DEFAULT_PAGE_SIZE).toBe(100);
    expect(listPageSize(0)).toBe(100);
    expect(listPageSize(7)).toBe(7);
    expect(listPageSize(5000)).toBe(1000);
  });

  it("each token round-trips its position; an empty token is the first page", () => {
    expect(parseUsageCursor(usageCursorToken({ receiptSeq: 12n, role: "lora", position: 3 }))).toEqual({ receiptSeq: 12n, role: "lora", position: 3 });
    expect(parseSeqCursor(seqCursorToken(99n))).toBe(99n);
    const odd = "projet: été/2026 \"quoted\" [x]";
    expect(parseProjectCursor(projectCursorToken(odd))).toBe(odd);
    const c = { sceneId: "scène:1,\"a\"", sequenceIndex: 42, segmentId: "seg:9" };
    expect(parseSegmentCursor(segmentCursorToken(c))).toEqual(c);
    for (const parse of [parseUsageCursor, parseSeqCursor, parseProjectCursor, parseSegmentCursor]) expect(parse("")).toBeUndefined();
  });

  it("a token this service did not make is INVALID_ARGUMENT on page_token", () => {
    for (const token of ["garbage", encodePageToken("not json"), encodePageToken("[1]"), encodePageToken('["p", "q"]'), encodePageToken('[""]')]) {
      expectBadToken(() => parseProjectCursor(token));
    }
    for (const token of ["garbage", encodePageToken('["s", -1, "g"]'), encodePageToken('["s", 1.5, "g"]'), encodePageToken('["s", 1]'), encodePageToken('{"a":1}')]) {
      expectBadToken(() => parseSegmentCursor(token));
    }
    expectBadToken(() => parseUsageCursor(encodePageToken("12:hat:0")));
    expectBadToken(() => parseSeqCursor(encodePageToken("abc")));
    // A token of one list is not a position of another.
    expectBadToken(() => parseSegmentCursor(projectCursorToken("p")));
  });

  it("a page read with one row more has a next token exactly when something follows", () => {
    const token = (n: number) => `after-${n}`;
    expect(pageOf([1, 2, 3, 4], 3, token)).toEqual({ items: [1, 2, 3], nextPageToken: "after-3" });
    expect(pageOf([1, 2, 3], 3, token)).toEqual({ items: [1, 2, 3], nextPageToken: "" });
    expect(pageOf([], 3, token)).toEqual({ items: [], nextPageToken: "" });
  });
});
