import type { DataSource } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AssetKind, GetStalenessReportResponseSchema, StalenessService, openDatabase, type GetStalenessReportResponse } from "@provenance/shared";
import type { TestProtocol } from "@provenance/shared/testing";
import { detectedChangeOfCounts, type CurrentChange, type DetectedChange } from "../src/domain/detected-change.js";
import { readProjectCounts, readProjectsCounts } from "../src/persistence/detection-repository.js";
import { STALENESS_APP_ROLE } from "../src/persistence/migrations/index.js";
import { STALENESS_SCHEMA } from "../src/persistence/schema.js";
import { assetWithVersions, sha, startStalenessHarness, type StalenessHarness } from "./staleness-harness.js";
import { groupOrder, oracleDetectedChanges, oracleReport, oracleStaleSegments, readOracleTables, type OracleGroup } from "./staleness-oracle.js";

/**
 * GetStalenessReport, ListStaleSegments and detection's per-project statement against the rule written as plainly as
 * SQL allows (every active input joined to its asset's current version) and against the TypeScript oracle
 * (staleness-oracle.ts), on a projection with every awkward case: the same LoRA twice in one
 * receipt, several unregistered hashes of one registered asset, unregistered assets, an asset registered without a
 * version, superseded segments, three projects, and pins of every kind (a scene's, listed segments', overlapping,
 * expired, unpinned, lapsed, one naming another project's scene). The projection and the pins are filled with SQL, as
 * the consumer and PinSegments would leave them.
 */
describe("the report and the stale list match the rule on a varied projection", () => {
  let h: StalenessHarness;
  const projects = ["eq-a", "eq-b", "eq-c"];

  beforeAll(async () => {
    h = await startStalenessHarness();
    await assetWithVersions(h, "eq-model", AssetKind.MODEL, "wan", ["eq model v1", "eq model v2", "eq model v3"]);
    await h.assets.setCurrentVersion({ assetId: "eq-model", version: 3 });
    await assetWithVersions(h, "eq-lora", AssetKind.LORA, "anna_lora", ["eq lora v1", "eq lora v2", "eq lora v3"], "eq-a");
    await h.assets.setCurrentVersion({ assetId: "eq-lora", version: 2 });
    await assetWithVersions(h, "eq-lora-b", AssetKind.LORA, "ben_lora", ["eq lora-b v1", "eq lora-b v2"]);
    await assetWithVersions(h, "eq-src", AssetKind.SOURCE_IMAGE, "anna.png", ["eq src v1"]);
    await h.assets.registerAsset({ assetId: "eq-versionless", kind: AssetKind.WORKFLOW, name: "wf" });

    // A deterministic generator (LCG), so a failure reproduces.
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const modelHashes = [sha("eq model v1"), sha("eq model v2"), sha("eq model v3"), sha("eq model v3"), sha("unknown m1"), sha("unknown m2")];
    const loraHashes = [sha("eq lora v1"), sha("eq lora v2"), sha("eq lora v2"), sha("eq lora v3"), sha("unknown l1")];
    const segments: unknown[][] = [];
    const inputs: unknown[][] = [];
    for (let n = 0; n < 420; n++) {
      const project = projects[n % 3]!;
      // Some ids of more than 127 bytes, not all ASCII: a two-byte length on the wire.
      const segment = `${project}-seg-${String(n).padStart(4, "0")}${n % 40 === 7 ? `-${"ż".repeat(90)}` : ""}`;
      const scene = `${project}-scene-${Math.floor(rnd() * 9)}`;
      const superseded = rnd() < 0.08;
      segments.push([segment, project, scene, n, superseded ? `${segment}-r` : null]);
      const add = (role: string, position: number, assetId: string, hash: string) =>
        inputs.push([segment, role, position, assetId, hash, project, scene, !superseded]);
      add("source_image", 0, "eq-src", rnd() < 0.9 ? sha("eq src v1") : sha("unknown s"));
      add("model", 0, "eq-model", pick(modelHashes));
      add("workflow", 0, rnd() < 0.5 ? "eq-versionless" : "eq-untracked-wf", sha("wf"));
      if (rnd() < 0.7) {
        const lora = pick(loraHashes);
        add("lora", 0, "eq-lora", lora);
        // The same LoRA stacked twice: one input, one reason each, but one segment in the group.
        if (rnd() < 0.2) add("lora", 1, "eq-lora", lora);
      }
      if (rnd() < 0.4) add("lora", 2, "eq-lora-b", pick([sha("eq lora-b v1"), sha("eq lora-b v2"), sha("unknown b")]));
    }
    await h.sql.query(
      `INSERT INTO staleness.segments (segment_id, project_id, scene_id, character_name, sequence_index, superseded_by_segment_id,
                                       current_receipt_id, current_receipt_created_at)
       SELECT s, p, sc, 'anna', n, sup, 'r-' || s, now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[]) AS u(s, p, sc, n, sup)`,
      [0, 1, 2, 3, 4].map((k) => segments.map((r) => r[k])),
    );
    await h.sql.query(
      `INSERT INTO staleness.segment_inputs (segment_id, role, position, asset_id, content_hash, receipt_id, project_id, scene_id, active)
       SELECT s, r, pos, a, hash, 'r-' || s, p, sc, act
         FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[])
           AS u(s, r, pos, a, hash, p, sc, act)`,
      [0, 1, 2, 3, 4, 5, 6, 7].map((k) => inputs.map((r) => r[k])),
    );
    // Pins of every kind: held (a scene's, listed segments', one with a future expiry, one overlapping a later one),
    // expired, unpinned, lapsed (the asset moved past the accepted version), and one naming another project's scene.
    const pin = (id: string, project: string, scene: string | null, asset: string, version: number, accepted: number, extra: string, n: number) =>
      h.sql.query(
        `INSERT INTO staleness.pins (pin_id, project_id, scene_id, asset_id, version, content_hash, accepted_version, reason, pinned_by,
                                     expires_at, unpinned_at, created_at)
         SELECT $1, $2, $3, $4, $5, v.content_hash, $6, 'on purpose', 'eq-tester', ${extra}, now() - make_interval(mins => $7::int)
           FROM staleness.asset_versions v WHERE v.asset_id = $4 AND v.version = $5`,
        [id, project, scene, asset, version, accepted, 100 - n],
      );
    await pin("pin-a-scene", "eq-a", "eq-a-scene-1", "eq-lora", 1, 2, "NULL, NULL", 1);
    await pin("pin-a-scene-later", "eq-a", "eq-a-scene-1", "eq-lora", 1, 2, "now() + interval '1 day', NULL", 2);
    await pin("pin-a-scene-v3", "eq-a", "eq-a-scene-2", "eq-lora", 3, 2, "now() + interval '1 day', NULL", 3);
    await pin("pin-a-segments", "eq-a", null, "eq-model", 1, 3, "NULL, NULL", 4);
    await pin("pin-b-expired", "eq-b", "eq-b-scene-2", "eq-model", 2, 3, "now() - interval '1 minute', NULL", 5);
    await pin("pin-b-unpinned", "eq-b", "eq-b-scene-3", "eq-model", 2, 3, "NULL, now()", 6);
    await pin("pin-b-segments-v2", "eq-b", null, "eq-model", 2, 3, "NULL, NULL", 7);
    await pin("pin-c-lapsed", "eq-c", "eq-c-scene-4", "eq-model", 1, 2, "NULL, NULL", 8);
    await pin("pin-c-scene", "eq-c", "eq-c-scene-5", "eq-lora-b", 2, 1, "now() + interval '1 day', NULL", 9);
    await pin("pin-c-other-project", "eq-c", "eq-a-scene-3", "eq-lora", 1, 2, "NULL, NULL", 10);
    const listed = (id: string, ids: string[]) =>
      h.sql.query(`INSERT INTO staleness.pin_segments (pin_id, segment_id) SELECT $1, unnest($2::text[])`, [id, ids]);
    await listed("pin-a-segments", segments.map((r) => r[0] as string).filter((id) => id.startsWith("eq-a-")).slice(0, 60));
    await listed("pin-b-segments-v2", segments.map((r) => r[0] as string).filter((id) => id.startsWith("eq-b-")).slice(20, 90));
    await h.sql.query(`ANALYZE staleness.segments; ANALYZE staleness.segment_inputs`);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  /** An open pin holds input `i` while its asset is on `cv`: its project, asset, hash, and its scene or listed segment. */
  const HELD = `EXISTS (SELECT 1 FROM staleness.pins p
     WHERE p.project_id = i.project_id AND p.asset_id = i.asset_id AND p.content_hash = i.content_hash AND p.accepted_version = cv.version
       AND p.unpinned_at IS NULL AND (p.expires_at IS NULL OR p.expires_at > now())
       AND (p.scene_id = i.scene_id OR i.segment_id IN (SELECT ps.segment_id FROM staleness.pin_segments ps WHERE ps.pin_id = p.pin_id)))`;
  /** Every differing input: an active input whose registered asset's current version has another hash. */
  const DIFFERING_INPUTS = `
    SELECT i.project_id, i.scene_id, i.segment_id, i.asset_id, a.name, COALESCE(rv.version, 0) AS receipt_version, cv.version AS current_version,
           ${HELD} AS held
      FROM staleness.segment_inputs i
      JOIN staleness.assets a ON a.asset_id = i.asset_id
      JOIN staleness.asset_versions cv ON cv.asset_id = i.asset_id AND cv.is_current AND cv.content_hash <> i.content_hash
      LEFT JOIN staleness.asset_versions rv ON rv.asset_id = i.asset_id AND rv.content_hash = i.content_hash
     WHERE i.active`;
  /** Every stale input, the rule as written: a differing input no open pin holds. */
  const STALE_INPUTS = `SELECT * FROM (${DIFFERING_INPUTS}) d WHERE NOT d.held`;

  async function expectedReport(projectId: string | undefined) {
    const scoped = projectId === undefined ? "" : `AND i.project_id = $1`;
    const params = projectId === undefined ? [] : [projectId];
    const stale = `${STALE_INPUTS} ${scoped.replace("i.", "d.")}`;
    const totals = await h.sql.query(
      `SELECT (SELECT count(DISTINCT segment_id) FROM (${stale}) s)::int AS stale,
              (SELECT count(*) FROM (SELECT DISTINCT project_id, scene_id FROM (${stale}) s) x)::int AS scenes,
              (SELECT count(*) FROM staleness.segment_inputs i
                WHERE i.active ${scoped} AND NOT EXISTS (SELECT 1 FROM staleness.assets a WHERE a.asset_id = i.asset_id))::int AS untracked,
              (SELECT count(*) FROM staleness.segments i
                WHERE i.superseded_by_segment_id IS NULL AND i.current_receipt_id IS NOT NULL ${scoped})::int AS active`,
      params,
    );
    const groups = await h.sql.query(
      `SELECT project_id, asset_id, name, receipt_version, current_version,
              array_agg(DISTINCT segment_id ORDER BY segment_id) AS segment_ids, count(DISTINCT scene_id)::int AS scenes
         FROM (${stale}) s GROUP BY project_id, asset_id, name, receipt_version, current_version
        ORDER BY project_id, count(DISTINCT segment_id) DESC, asset_id, receipt_version`,
      params,
    );
    const pinned = await h.sql.query(
      `SELECT d.project_id, d.segment_id, d.asset_id, min(d.receipt_version) AS version
         FROM (${DIFFERING_INPUTS}) d WHERE d.held ${scoped.replace("i.", "d.")}
        GROUP BY d.project_id, d.segment_id, d.asset_id ORDER BY d.project_id, d.segment_id, d.asset_id`,
      params,
    );
    return { totals: totals.rows[0], groups: groups.rows, pinned: pinned.rows };
  }

  /** The report over each wire format: gRPC, gRPC-Web, Connect binary and JSON, a Connect GET, and the REST route. */
  async function reportsOverEveryFormat(projectId: string | undefined): Promise<GetStalenessReportResponse[]> {
    const req = { projectId: projectId ?? "" };
    const protocols: TestProtocol[] = ["grpc", "grpc-web", "connect", "connect-json"];
    const answers = await Promise.all(protocols.map((p) => h.env.client(StalenessService, h.staleness!.url, undefined, p).getStalenessReport(req)));
    const token = await h.env.token();
    const withToken: Interceptor = (next) => (r) => {
      r.header.set("authorization", `Bearer ${token}`);
      return next(r);
    };
    const get = createConnectTransport({ baseUrl: h.staleness!.url, httpVersion: "1.1", useBinaryFormat: false, useHttpGet: true, interceptors: [withToken] });
    answers.push(await createClient(StalenessService, get).getStalenessReport(req));
    if (projectId !== undefined) {
      const rest = await fetch(`${h.staleness!.url}/api/projects/${projectId}/staleness-report`, { headers: { authorization: `Bearer ${token}` } });
      expect(rest.status).toBe(200);
      answers.push(fromJson(GetStalenessReportResponseSchema, (await rest.json()) as JsonValue));
    }
    return answers;
  }

  for (const projectId of [...projects, undefined]) {
    it(`GetStalenessReport ${projectId === undefined ? "of every project" : `of ${projectId}`} is the rule's, in every wire format`, async () => {
      const want = await expectedReport(projectId);
      expect(want.groups.some((g) => g.receipt_version === 0)).toBe(true);
      expect(want.groups.some((g) => (g.segment_ids as string[]).some((id) => Buffer.byteLength(id) > 127))).toBe(true);
      const answers = await reportsOverEveryFormat(projectId);
      expect(answers).toHaveLength(projectId === undefined ? 5 : 6);
      for (const got of answers) expectReport(got, want);
    });
  }

  /** A report answer is the rule's: its totals, its groups with every segment id, its pins. */
  function expectReport(got: GetStalenessReportResponse, want: Awaited<ReturnType<typeof expectedReport>>): void {
    expect({
      stale: got.totalStaleSegments,
      scenes: got.totalStaleScenes,
      untracked: got.untrackedInputs,
      active: got.totalActiveSegments,
    }).toEqual(want.totals);
    expect(
      got.byAsset.map((g) => ({
        project_id: g.projectId,
        asset_id: g.assetId,
        name: g.assetName,
        receipt_version: g.receiptVersion,
        current_version: g.currentVersion,
        segment_ids: g.segmentIds,
        scenes: g.affectedScenes,
      })),
    ).toEqual(want.groups);
    for (const g of got.byAsset) {
      expect(g.affectedSegments).toBe(g.segmentIds.length);
      expect(g.summary).toMatch(new RegExp(`^${g.segmentIds.length} segments? across ${g.affectedScenes} scenes? used `));
    }
    expect(got.pinned.map((p) => ({ project_id: p.projectId, segment_id: p.segmentId, asset_id: p.assetId, version: p.version }))).toEqual(want.pinned);
    expect(got.pinnedSegments).toBe(new Set(want.pinned.map((p) => p.segment_id)).size);
    expect(got.pinnedSegments).toBeGreaterThan(0);
  }

  /** Pages through ListStaleSegments with a small page size, returning each segment's id and number of reasons. */
  async function listAll(filter: { projectId?: string; assetId?: string }): Promise<[string, number][]> {
    const out: [string, number][] = [];
    let pageToken = "";
    do {
      const page = await h.report.listStaleSegments({ ...filter, pageSize: 7, pageToken });
      out.push(...page.segments.map((s): [string, number] => [s.segmentId, s.reasons.length]));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return out;
  }

  const filters: { projectId?: string; assetId?: string }[] = [
    { projectId: "eq-b" },
    { assetId: "eq-model" },
    { assetId: "eq-lora" },
    { projectId: "eq-c", assetId: "eq-lora" },
    {},
  ];
  for (const filter of filters) {
    it(`ListStaleSegments ${JSON.stringify(filter)} pages through exactly the rule's stale segments, each with every reason`, async () => {
      const where = [
        filter.projectId !== undefined ? `AND s.project_id = '${filter.projectId}'` : "",
        filter.assetId !== undefined ? `AND EXISTS (SELECT 1 FROM (${STALE_INPUTS}) x WHERE x.segment_id = s.segment_id AND x.asset_id = '${filter.assetId}')` : "",
      ].join(" ");
      const want = await h.sql.query(`SELECT segment_id, count(*)::int AS reasons FROM (${STALE_INPUTS}) s WHERE true ${where} GROUP BY segment_id ORDER BY segment_id`);
      const got = await listAll(filter);
      expect(got.length).toBeGreaterThan(7);
      expect(got).toEqual(want.rows.map((r) => [r.segment_id, r.reasons]));
    });
  }

  it("GetStalenessReport is the TypeScript oracle's, for each project and for every project", async () => {
    const tables = await readOracleTables(h.sql);
    for (const projectId of [...projects, undefined]) {
      const want = oracleReport(tables, projectId);
      expect(want.groups.some((g) => g.receiptVersion === 0)).toBe(true);
      const got = await h.report.getStalenessReport({ projectId: projectId ?? "" });
      const { groups, pinned, pinnedSegments: _pinnedSegments, ...totals } = want;
      expect(pinned.length).toBeGreaterThan(0);
      expect(got.pinnedSegments).toBe(want.pinnedSegments);
      expect(got.pinned.map((p) => ({ projectId: p.projectId, segmentId: p.segmentId, assetId: p.assetId, version: p.version, pinId: p.pinId }))).toEqual(
        pinned,
      );
      expect({
        totalActiveSegments: got.totalActiveSegments,
        totalStaleSegments: got.totalStaleSegments,
        totalStaleScenes: got.totalStaleScenes,
        untrackedInputs: got.untrackedInputs,
        legacySegments: got.legacySegments,
      }).toEqual(totals);
      const gotGroups = got.byAsset.map(
        (g): OracleGroup => ({
          projectId: g.projectId,
          assetId: g.assetId,
          assetName: g.assetName,
          receiptVersion: g.receiptVersion,
          currentVersion: g.currentVersion,
          segmentIds: g.segmentIds,
          affectedScenes: g.affectedScenes,
        }),
      );
      expect(gotGroups.sort(groupOrder)).toEqual(groups);
    }
  });

  it("ListStaleSegments pages through exactly the TypeScript oracle's stale segments, for every filter", async () => {
    const tables = await readOracleTables(h.sql);
    for (const filter of filters) {
      const want = oracleStaleSegments(tables, filter);
      expect(want.length).toBeGreaterThan(7);
      expect(await listAll(filter)).toEqual(want);
    }
  });

  it("detection's statement gives the TypeScript oracle's events for every change of every asset, in every project", async () => {
    const tables = await readOracleTables(h.sql);
    const ds: DataSource = await openDatabase({ url: h.config.databaseUrl, schema: STALENESS_SCHEMA, migrations: [], appRole: STALENESS_APP_ROLE });
    try {
      let events = 0;
      for (const asset of tables.assets) {
        const versions = tables.versions.filter((v) => v.assetId === asset.assetId);
        // The first publish of each version (from no version), and every move between two versions: promotions and rollbacks.
        const moves = versions.flatMap((to) => [undefined, ...versions.filter((v) => v !== to)].map((from) => ({ from, to })));
        for (const { from, to } of moves) {
          const change: CurrentChange = {
            assetId: asset.assetId,
            assetName: asset.name,
            kind: asset.kind,
            previousVersion: from?.version ?? 0,
            previousContentHash: from?.contentHash ?? "",
            currentVersion: to.version,
            currentContentHash: to.contentHash,
          };
          const affected = tables.inputs
            .filter((i) => i.active && i.assetId === asset.assetId)
            .map((i) => ({ ...i, receiptVersion: versions.find((v) => v.contentHash === i.contentHash)?.version ?? 0 }));
          // As detection runs it: the projects of a batch in one statement; and one project at a time (the bench's floor).
          const got: DetectedChange[] = [];
          const batch = await readProjectsCounts(ds.manager, projects, change);
          for (const projectId of projects) {
            const detected = detectedChangeOfCounts(change, projectId, batch.get(projectId)!);
            expect(detectedChangeOfCounts(change, projectId, await readProjectCounts(ds.manager, projectId, change))).toEqual(detected);
            if (detected) got.push(detected);
          }
          const want = oracleDetectedChanges(change, affected, tables);
          expect(got).toEqual(want);
          events += want.length;
        }
      }
      expect(events).toBeGreaterThan(20);
    } finally {
      await ds.destroy();
    }
  });
});
