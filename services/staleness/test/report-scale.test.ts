import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetKind } from "@provenance/shared";
import { PROJECT_DETECTION_SQL, reportSql, staleSegmentsSql } from "../src/persistence/statements.js";
import { assetWithVersions, sha, startStalenessHarness, watchDetectedOnNats, eventually, type StalenessHarness } from "./staleness-harness.js";

/**
 * A project of 100,000 active segments (five inputs each, 500,000 projected inputs) next to another project: the
 * report reads the project's stale ranges, and detection after a publish reads the asset's inputs one project at a
 * time. The projection is filled with SQL directly, as the consumer would have left it. This test checks the results
 * at that size; how fast they come is measured by `npm run bench` (see docs/performance.md), never asserted here.
 */
describe("at the scale of a 100,000-segment project", () => {
  let h: StalenessHarness;
  beforeAll(async () => {
    h = await startStalenessHarness();
    await assetWithVersions(h, "big-model", AssetKind.MODEL, "wan", ["big model v1", "big model v2"]);
    await assetWithVersions(h, "big-lora", AssetKind.LORA, "anna_lora", ["big lora v1"], "big");
    await assetWithVersions(h, "big-wf", AssetKind.WORKFLOW, "i2v", ["big wf v1"]);
    await h.sql.query(`
      INSERT INTO staleness.segments (segment_id, project_id, scene_id, character_name, sequence_index, current_receipt_id, current_receipt_created_at)
      SELECT format('%s-%s', p, n), p, format('scene-%s', n % 400), 'anna', n, format('r-%s-%s', p, n), now()
        FROM (VALUES ('big', 100000), ('other', 50000)) AS t(p, total), generate_series(1, total) AS n;
      INSERT INTO staleness.segment_inputs (segment_id, role, position, asset_id, content_hash, receipt_id, project_id, scene_id)
      SELECT s.segment_id, i.role, 0, i.asset_id, i.hash, s.current_receipt_id, s.project_id, s.scene_id
        FROM staleness.segments s
        CROSS JOIN (VALUES ('source_image', 'src-untracked', '${sha("src")}'),
                           ('workflow', 'big-wf', '${sha("big wf v1")}'),
                           ('model', 'big-model', '${sha("big model v1")}')) AS i(role, asset_id, hash);
      -- One in ten segments of the big project uses the LoRA.
      INSERT INTO staleness.segment_inputs (segment_id, role, position, asset_id, content_hash, receipt_id, project_id, scene_id)
      SELECT segment_id, 'lora', 0, 'big-lora', '${sha("big lora v1")}', current_receipt_id, project_id, scene_id
        FROM staleness.segments WHERE project_id = 'big' AND sequence_index % 10 = 0;
    `);
    // As autovacuum would after a bulk insert: statistics, and a visibility map so index-only scans stay index-only.
    await h.sql.query(`VACUUM (ANALYZE) staleness.segments, staleness.segment_inputs`);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("counts every stale segment and scene of the big project, and pushes the detection of a publish", async () => {
    const nats = watchDetectedOnNats(h);
    await nats.ready;
    await h.assets.publishVersion({ assetId: "big-lora", contentHash: sha("big lora v2"), uploadedBy: "creator" });
    const event = await eventually(() => nats.events.find((e) => e.assetId === "big-lora"), 30_000);
    expect(event.totalStaleSegments).toBe(10_000);
    expect(event.totalStaleScenes).toBe(40);
    // Counted in the statement: the first 5,000 distinct ids in order, the totals exact.
    expect(event.staleSegmentIds).toHaveLength(5_000);
    expect(event.staleSegmentIds).toEqual([...event.staleSegmentIds].sort());
    expect(event.groups.map((g) => [g.affectedSegments, g.affectedScenes, g.segmentIds.length])).toEqual([[10_000, 40, 5_000]]);
    expect(event.groups[0]!.segmentIds).toEqual(event.staleSegmentIds);

    await h.assets.setCurrentVersion({ assetId: "big-model", version: 2 });
    const report = await h.report.getStalenessReport({ projectId: "big" });
    expect(report.totalActiveSegments).toBe(100_000);
    expect(report.totalStaleSegments).toBe(100_000);
    expect(report.untrackedInputs).toBe(100_000);
    expect(report.byAsset.map((g) => [g.assetId, g.affectedSegments])).toEqual([
      ["big-model", 100_000],
      ["big-lora", 10_000],
    ]);
    // EXPLAIN=1 prints the plans of the report and of detection's step for the big project.
    if (process.env.EXPLAIN) {
      for (const [name, q] of Object.entries({
        report: `SET work_mem = '64MB'; SET jit = off; EXPLAIN (ANALYZE, BUFFERS) ${reportSql(true).replaceAll("$1", "'big'")}`,
        detect: `EXPLAIN (ANALYZE, BUFFERS) ${PROJECT_DETECTION_SQL.replaceAll("$1", "'big'")
          .replaceAll("$2", "'big-lora'")
          .replaceAll("$3", `'${sha("big lora v2")}'`)
          .replaceAll("$4", `'${sha("big lora v1")}'`)
          .replaceAll("$5", "2")}`,
      })) {
        const t = Date.now();
        const res = await h.sql.query(q);
        const r = Array.isArray(res) ? res.at(-1) : res;
        console.log(name, Date.now() - t, r.rows.map((x: Record<string, string>) => x["QUERY PLAN"]).join("\n"));
      }
    }
    const page = await h.report.listStaleSegments({ projectId: "big", pageSize: 100 });
    expect(page.segments).toHaveLength(100);
    expect(page.segments.every((s) => s.projectId === "big" && s.reasons.length >= 1)).toBe(true);
    nats.stop();
  });

  it("pages through a project written after the last ANALYZE by its stale ranges, not by the primary key", async () => {
    // 10,000 segments of a new project, all stale (the LoRA and the model moved on above), which the statistics do
    // not know: the planner estimates the project at a row or two.
    await h.sql.query(`
      INSERT INTO staleness.segments (segment_id, project_id, scene_id, character_name, sequence_index, current_receipt_id, current_receipt_created_at)
      SELECT format('late-%s', lpad(n::text, 5, '0')), 'late', format('scene-%s', n % 20), 'anna', n, format('r-late-%s', n), now()
        FROM generate_series(1, 10000) AS n;
      INSERT INTO staleness.segment_inputs (segment_id, role, position, asset_id, content_hash, receipt_id, project_id, scene_id)
      SELECT s.segment_id, i.role, 0, i.asset_id, i.hash, s.current_receipt_id, s.project_id, s.scene_id
        FROM staleness.segments s
        CROSS JOIN (VALUES ('workflow', 'big-wf', '${sha("big wf v1")}'),
                           ('model', 'big-model', '${sha("big model v1")}'),
                           ('lora', 'big-lora', '${sha("big lora v1")}')) AS i(role, asset_id, hash)
       WHERE s.project_id = 'late';
    `);
    const ids: string[] = [];
    let pageToken = "";
    do {
      const page = await h.report.listStaleSegments({ projectId: "late", pageSize: 1000, pageToken });
      ids.push(...page.segments.map((s) => s.segmentId));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(ids).toHaveLength(10_000);
    expect(new Set(ids).size).toBe(10_000);
    expect(ids).toEqual([...ids].sort());

    // A later page's plan: its ranges are bounded by the project's index, never a walk of the primary key from the
    // cursor on (which read every later segment's inputs once per range: seconds per page at a million receipts).
    const [sql, params] = staleSegmentsSql({ projectId: "late", after: ids[999] }, 1000);
    const { rows } = await h.sql.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    const nodes: Record<string, unknown>[] = [];
    const walk = (n: Record<string, unknown>) => {
      nodes.push(n);
      for (const c of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c);
    };
    walk((rows[0]["QUERY PLAN"] as { Plan: Record<string, unknown> }[])[0]!.Plan);
    const keysetOnPrimaryKey = nodes.filter((n) => n["Index Name"] === "segment_inputs_pkey" && /segment_id > /.test(String(n["Index Cond"] ?? "")));
    expect(keysetOnPrimaryKey).toEqual([]);
    expect(nodes.some((n) => n["Index Name"] === "segment_inputs_active_project_asset_idx" && /ROW\(asset_id, content_hash, segment_id\) >/.test(String(n["Index Cond"] ?? "")))).toBe(true);
  });
});
