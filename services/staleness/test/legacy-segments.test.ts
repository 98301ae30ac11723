/**
 * LEGACY segments (ReceiptService.ImportLegacySegments, through the real receipts service and its events): never a
 * segment's current receipt, so never stale nor fresh whatever their inputs, and counted in the report's
 * legacy_segments — as the oracle counts them — not in total_active_segments.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetKind } from "@provenance/shared";
import { oracleReport, readOracleTables } from "./staleness-oracle.js";
import { assetWithVersions, generate, sha, startStalenessHarness, type InputsSpec, type StalenessHarness } from "./staleness-harness.js";

const P = "legacy-proj";
const Q = "legacy-other";

describe("LEGACY segments in the staleness report", () => {
  let h: StalenessHarness;
  let lora: string[];
  beforeAll(async () => {
    h = await startStalenessHarness({ withReceipts: true });
    lora = await assetWithVersions(h, "leg-lora", AssetKind.LORA, "anna_lora", ["leg-lora v1", "leg-lora v2"], P);
  });
  afterAll(async () => {
    await h?.close();
  });

  const inputs = (loraHash: string): InputsSpec => ({
    source: ["leg-src", sha("src")],
    workflow: ["leg-wf", sha("wf")],
    model: ["leg-model", sha("model")],
    loras: [["leg-lora", loraHash]],
  });
  const legacy = (segmentId: string, projectId: string, loraHash: string) => ({
    segmentId,
    sceneId: "old-scene",
    projectId,
    characterName: "anna",
    sequenceIndex: 1,
    sourceImage: { assetId: "leg-src", contentHash: sha("src"), version: 0 },
    workflow: { assetId: "leg-wf", contentHash: "", version: 0 },
    loras: [{ asset: { assetId: "leg-lora", contentHash: loraHash, version: 1 }, weight: 0.8 }],
    generatedAt: timestampFromDate(new Date("2024-01-01T00:00:00Z")),
  });

  it("never reports a LEGACY segment stale or fresh, and counts it as legacy", async () => {
    await generate(h, { segmentId: "leg-recorded", sceneId: "s1", projectId: P }, inputs(lora[0]!));
    await h.receiptClient.importLegacySegments({
      segments: [legacy("leg-old-1", P, lora[0]!), legacy("leg-old-2", P, lora[0]!), legacy("leg-old-q", Q, lora[0]!)],
    });
    await h.settle();
    // v2 becomes current: the recorded segment used v1 and is stale; the legacy ones used v1 too, but are not.
    await h.uploader.setCurrentVersion({ assetId: "leg-lora", version: 2 });
    await h.settle();

    const report = await h.report.getStalenessReport({ projectId: P });
    expect(report).toMatchObject({ totalActiveSegments: 1, totalStaleSegments: 1, legacySegments: 2 });
    expect(report.byAsset.flatMap((g) => g.segmentIds)).toEqual(["leg-recorded"]);
    const stale = await h.report.listStaleSegments({ projectId: P });
    expect(stale.segments.map((s) => s.segmentId)).toEqual(["leg-recorded"]);
    expect((await h.report.getStalenessReport({})).legacySegments).toBe(3);

    const tables = await readOracleTables(h.sql);
    for (const projectId of [P, Q, undefined]) {
      const got = await h.report.getStalenessReport({ projectId: projectId ?? "" });
      const want = oracleReport(tables, projectId);
      expect([got.legacySegments, got.totalActiveSegments]).toEqual([want.legacySegments, want.totalActiveSegments]);
    }
    // Nothing of a LEGACY receipt is in the projection's inputs: nothing about it can turn stale or fresh.
    const rows = await h.sql.query(`SELECT count(*)::int AS n FROM staleness.segment_inputs WHERE segment_id LIKE 'leg-old-%'`);
    expect(rows.rows[0].n).toBe(0);
  });
});
