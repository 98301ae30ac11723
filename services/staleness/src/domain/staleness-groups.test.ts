import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { AssetStalenessSchema } from "@provenance/shared";
import {
  SEGMENT_IDS_TAG,
  orderReportGroups,
  segmentIdsField,
  summarySentence,
  toReportGroupMessage,
  withSegmentIdsDecoded,
  type ReportGroupRow,
} from "./staleness-groups.js";

describe("summarySentence", () => {
  it("reads like the product says, with singular forms", () => {
    expect(summarySentence({ affectedSegments: 12, affectedScenes: 3, assetName: "anna_lora", receiptVersion: 1, currentVersion: 2 })).toBe(
      "12 segments across 3 scenes used anna_lora v1 — you are on v2",
    );
    expect(summarySentence({ affectedSegments: 1, affectedScenes: 1, assetName: "clothed_v1.png", receiptVersion: 1, currentVersion: 3 })).toBe(
      "1 segment across 1 scene used clothed_v1.png v1 — you are on v3",
    );
    expect(summarySentence({ affectedSegments: 2, affectedScenes: 1, assetName: "m", receiptVersion: 0, currentVersion: 1 })).toBe(
      "2 segments across 1 scene used an unregistered version of m — you are on v1",
    );
  });
});

describe("report groups", () => {
  /** The wire bytes of `segment_ids` as the report statement writes them. */
  const field = (ids: string[]) => toBinary(AssetStalenessSchema, create(AssetStalenessSchema, { segmentIds: ids }));
  const row = (projectId: string, assetId: string, receiptVersion: number, segmentIds: string[], affectedScenes = 1): ReportGroupRow => ({
    projectId,
    assetId,
    assetName: assetId,
    kind: "LORA",
    receiptVersion,
    currentVersion: 3,
    affectedSegments: segmentIds.length,
    affectedScenes,
    segmentIdsField: field(segmentIds),
  });

  it("orders each project's groups by size, keeping the given (asset, version) order for equal sizes and the projects' order", () => {
    const out = orderReportGroups([
      row("p2", "a", 1, ["x"]),
      row("p2", "b", 1, ["y", "z"]),
      row("p1", "a", 1, ["u"]),
      row("p1", "a", 2, ["v"]),
      row("p1", "c", 1, ["v", "w"]),
    ]);
    expect(out.map((g) => `${g.projectId}/${g.assetId}/v${g.receiptVersion}`)).toEqual(["p2/b/v1", "p2/a/v1", "p1/c/v1", "p1/a/v1", "p1/a/v2"]);
    expect(orderReportGroups([])).toEqual([]);
  });

  it("carries the ids as written: a binary answer decodes them, a JSON one has them decoded first", () => {
    const ids = ["seg-a", `seg-${"ż".repeat(100)}`, "seg-c"];
    const message = toReportGroupMessage(row("p1", "lora", 1, ids, 2));
    expect(message.segmentIds).toEqual([]);
    const decoded = fromBinary(AssetStalenessSchema, toBinary(AssetStalenessSchema, message));
    expect(decoded.segmentIds).toEqual(ids);
    expect(decoded.summary).toBe("3 segments across 2 scenes used lora v1 — you are on v3");
    expect(decoded.affectedSegments).toBe(3);
    const json = toJson(AssetStalenessSchema, withSegmentIdsDecoded(message)) as { segmentIds: string[] };
    expect(json.segmentIds).toEqual(ids);
  });

  it("writes the ids joined by spaces as protobuf-es writes segment_ids, repeats in a row dropped", () => {
    const f = AssetStalenessSchema.fields.find((x) => x.localName === "segmentIds")!;
    expect(SEGMENT_IDS_TAG).toBe((f.number << 3) | WireType.LengthDelimited);
    const ids = ["a", "b", `c-${"ż".repeat(100)}`, "d-€😀", "x".repeat(200)];
    expect(Buffer.from(segmentIdsField(ids.join(" "), 5).field).equals(Buffer.from(field(ids)))).toBe(true);
    expect(segmentIdsField(ids.join(" "), 5).count).toBe(5);
    const repeated = segmentIdsField("a a b c c c d", 7);
    expect(Buffer.from(repeated.field).equals(Buffer.from(field(["a", "b", "c", "d"])))).toBe(true);
    expect(repeated.count).toBe(4);
    // Not adjacent: both kept, as the statement's order says.
    expect(segmentIdsField("a b a", 3).count).toBe(3);
    // A prefix is not a repeat.
    expect(fromBinary(AssetStalenessSchema, segmentIdsField("ab abc abc", 3).field).segmentIds).toEqual(["ab", "abc"]);
    expect(segmentIdsField("", 0)).toEqual({ field: new Uint8Array(0), count: 0 });
  });

  it("refuses ids that do not split into as many as were listed, instead of answering with wrong ids", () => {
    // Two ids listed, three pieces: one of them held a space.
    expect(() => segmentIdsField("seg-1 seg 2", 2)).toThrow(/listed 2 segment ids but they split into 3/);
    expect(() => segmentIdsField("seg-1", 2)).toThrow(/listed 2 segment ids but they split into 1/);
  });
});
