import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { StalenessDetectedSchema, WatchStalenessResponseSchema } from "@provenance/shared";
import type { WatchedChange } from "../events/watcher.js";
import { binaryResponse, jsonResponse } from "./watch-responses.js";
import { wantsJson } from "./wire-format.js";

function watched(): WatchedChange {
  const change = create(StalenessDetectedSchema, {
    eventId: "e-1",
    projectId: "p",
    assetId: "lora",
    previousVersion: 1,
    currentVersion: 2,
    staleSegmentIds: Array.from({ length: 1000 }, (_, i) => `segment-${i}`),
    totalStaleSegments: 1000,
    groups: [{ assetId: "lora", assetName: "anna_lora", receiptVersion: 1, currentVersion: 2, affectedSegments: 1000, summary: "1000 segments" }],
    detectionLatencyMs: 12,
  });
  return { change, encoded: toBinary(StalenessDetectedSchema, change) };
}

describe("the shared WatchStaleness responses", () => {
  it("encode, for binary streams, to exactly the bytes of the response built from the decoded change", () => {
    const c = watched();
    const expected = toBinary(WatchStalenessResponseSchema, create(WatchStalenessResponseSchema, { change: c.change }));
    expect(Buffer.from(toBinary(WatchStalenessResponseSchema, binaryResponse(c))).equals(Buffer.from(expected))).toBe(true);
  });

  it("are built once per change, so every stream is handed the same object", () => {
    const c = watched();
    expect(binaryResponse(c)).toBe(binaryResponse(c));
    expect(jsonResponse(c)).toBe(jsonResponse(c));
    expect(binaryResponse(watched())).not.toBe(binaryResponse(c));
  });

  it("give JSON streams the decoded change", () => {
    const c = watched();
    const json = toJson(WatchStalenessResponseSchema, jsonResponse(c)) as { change: { staleSegmentIds: string[]; currentVersion: number } };
    expect(json.change.staleSegmentIds).toHaveLength(1000);
    expect(json.change.currentVersion).toBe(2);
  });

  it("tell JSON content types from binary ones", () => {
    for (const t of ["application/json", "application/connect+json", "application/grpc+json", "application/grpc-web+json; charset=utf-8"]) {
      expect(wantsJson(t)).toBe(true);
    }
    for (const t of ["application/grpc", "application/grpc+proto", "application/grpc-web", "application/connect+proto", "application/proto", null]) {
      expect(wantsJson(t)).toBe(false);
    }
  });
});
