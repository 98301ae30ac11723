import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { StalenessDetectedSchema } from "@provenance/shared";
import { projectIdOf } from "./staleness-hub.js";
import { PublishedChange } from "./watcher.js";

const change = create(StalenessDetectedSchema, {
  eventId: "e-1",
  requestId: "req-1",
  projectId: "project-ä/7",
  assetId: "lora",
  previousVersion: 1,
  currentVersion: 2,
  staleSegmentIds: Array.from({ length: 2000 }, (_, i) => `segment-${i}`),
  freshSegmentIds: ["segment-x"],
  totalStaleSegments: 2000,
  groups: [{ assetId: "lora", assetName: "anna_lora", receiptVersion: 1, currentVersion: 2, affectedSegments: 2000, summary: "2000 segments", segmentIds: ["segment-1"] }],
  detectionLatencyMs: 12,
});
const encoded = toBinary(StalenessDetectedSchema, change);

describe("a published StalenessDetected as the hub routes it", () => {
  it("gives its project without decoding the rest, wherever the field sits among the others", () => {
    expect(projectIdOf(encoded)).toBe("project-ä/7");
    // The ids written before the project: field order on the wire is not the declaration order.
    const ids = toBinary(StalenessDetectedSchema, create(StalenessDetectedSchema, { staleSegmentIds: ["a", "b"] }));
    const project = toBinary(StalenessDetectedSchema, create(StalenessDetectedSchema, { projectId: "late" }));
    expect(projectIdOf(new Uint8Array([...ids, ...project]))).toBe("late");
    expect(projectIdOf(toBinary(StalenessDetectedSchema, create(StalenessDetectedSchema, { eventId: "no project" })))).toBe("");
  });

  it("refuses bytes that are not a well-formed message, as decoding them would", () => {
    expect(() => projectIdOf(encoded.subarray(0, encoded.length - 3))).toThrow();
    expect(() => projectIdOf(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow();
  });

  it("is decoded only when asked, once, to the message that was published", () => {
    const shared = new PublishedChange(encoded);
    expect(shared.encoded).toBe(encoded);
    const first = shared.change;
    expect(first).toEqual(change);
    expect(shared.change).toBe(first);
  });
});
