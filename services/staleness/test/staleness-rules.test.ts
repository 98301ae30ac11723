import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetKind, AssetService, InputRole, ReceiptStatus } from "@provenance/shared";
import {
  assetWithVersions,
  eventually,
  generate,
  sha,
  startStalenessHarness,
  watchDetectedOnNats,
  type InputsSpec,
  type StalenessHarness,
} from "./staleness-harness.js";

let h: StalenessHarness;

beforeAll(async () => {
  h = await startStalenessHarness({ withReceipts: true });
});
afterAll(async () => {
  await h?.close();
});

/** A project whose five kinds of asset (and two LoRAs) are registered with v1 current and v2 published but not current. */
async function project(p: string): Promise<{ inputs: InputsSpec; v2: Record<string, string> }> {
  const kinds: [string, AssetKind][] = [
    ["source", AssetKind.SOURCE_IMAGE],
    ["variant", AssetKind.VARIANT_IMAGE],
    ["workflow", AssetKind.WORKFLOW],
    ["model", AssetKind.MODEL],
    ["lora-a", AssetKind.LORA],
    ["lora-b", AssetKind.LORA],
  ];
  const v1: Record<string, [string, string]> = {};
  const v2: Record<string, string> = {};
  for (const [label, kind] of kinds) {
    const id = `${p}-${label}`;
    const [h1, h2] = await assetWithVersions(h, id, kind, `${label}.bin`, [`${id} v1`, `${id} v2`], p);
    v1[label] = [id, h1!];
    v2[label] = h2!;
  }
  return {
    inputs: { source: v1.source!, variant: v1.variant!, workflow: v1.workflow!, model: v1.model!, loras: [v1["lora-a"]!, v1["lora-b"]!] },
    v2,
  };
}

async function codeOf(p: Promise<unknown>): Promise<Code> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err).code;
  }
  throw new Error("expected the call to fail");
}

describe("staleness from each input kind", () => {
  const cases: [string, AssetKind, InputRole][] = [
    ["source", AssetKind.SOURCE_IMAGE, InputRole.SOURCE_IMAGE],
    ["variant", AssetKind.VARIANT_IMAGE, InputRole.VARIANT_IMAGE],
    ["workflow", AssetKind.WORKFLOW, InputRole.WORKFLOW],
    ["model", AssetKind.MODEL, InputRole.MODEL],
    ["lora-a", AssetKind.LORA, InputRole.LORA],
    ["lora-b", AssetKind.LORA, InputRole.LORA],
  ];
  for (const [label, kind, role] of cases) {
    it(`a new current ${label} version makes the segment stale with one reason, and a rollback makes it fresh`, async () => {
      const p = `kind-${label}`;
      const { inputs } = await project(p);
      await generate(h, { segmentId: `${p}-seg`, sceneId: "s1", projectId: p }, inputs);
      await h.settle();
      expect((await h.report.getStalenessReport({ projectId: p })).totalStaleSegments).toBe(0);

      await h.assets.setCurrentVersion({ assetId: `${p}-${label}`, version: 2 });
      const { segments } = await h.report.listStaleSegments({ projectId: p });
      expect(segments.map((s) => s.segmentId)).toEqual([`${p}-seg`]);
      expect(segments[0]!.reasons).toHaveLength(1);
      expect(segments[0]!.reasons[0]).toMatchObject({
        kind,
        role,
        assetId: `${p}-${label}`,
        assetName: `${label}.bin`,
        receiptVersion: 1,
        currentVersion: 2,
        receiptContentHash: sha(`${p}-${label} v1`),
        currentContentHash: sha(`${p}-${label} v2`),
      });

      await h.assets.setCurrentVersion({ assetId: `${p}-${label}`, version: 1 });
      expect((await h.report.listStaleSegments({ projectId: p })).segments).toEqual([]);
    });
  }
});

describe("the rules", () => {
  it("gives a segment with two stale inputs two reasons, one group each, and leaves a fresh segment alone", async () => {
    const p = "two-reasons";
    const { inputs, v2 } = await project(p);
    await generate(h, { segmentId: `${p}-old`, sceneId: "s1", projectId: p }, inputs);
    const fresh: InputsSpec = { ...inputs, model: [`${p}-model`, v2.model!], loras: [[`${p}-lora-a`, v2["lora-a"]!], inputs.loras[1]!] };
    await generate(h, { segmentId: `${p}-fresh`, sceneId: "s2", projectId: p }, fresh);
    await h.settle();
    await h.assets.setCurrentVersion({ assetId: `${p}-model`, version: 2 });
    await h.assets.setCurrentVersion({ assetId: `${p}-lora-a`, version: 2 });

    const { segments } = await h.report.listStaleSegments({ projectId: p });
    expect(segments.map((s) => s.segmentId)).toEqual([`${p}-old`]);
    expect(segments[0]!.reasons.map((r) => r.assetId).sort()).toEqual([`${p}-lora-a`, `${p}-model`]);
    const report = await h.report.getStalenessReport({ projectId: p });
    expect(report.totalStaleSegments).toBe(1);
    expect(report.totalActiveSegments).toBe(2);
    expect(report.byAsset.map((g) => g.assetId).sort()).toEqual([`${p}-lora-a`, `${p}-model`]);
    const byAsset = await h.report.listStaleSegments({ assetId: `${p}-model` });
    expect(byAsset.segments.map((s) => s.segmentId)).toEqual([`${p}-old`]);
    expect(byAsset.segments[0]!.reasons).toHaveLength(2);
  });

  it("pushes the rollback that makes segments fresh again, on NATS and to WatchStaleness", async () => {
    const p = "rollback";
    const { inputs } = await project(p);
    await generate(h, { segmentId: `${p}-a`, sceneId: "s1", projectId: p }, inputs);
    await generate(h, { segmentId: `${p}-b`, sceneId: "s2", projectId: p }, inputs);
    await h.settle();
    const nats = watchDetectedOnNats(h);
    await nats.ready;
    const abort = new AbortController();
    const watched: string[][] = [];
    const stream = (async () => {
      for await (const r of h.report.watchStaleness({ projectId: p }, { signal: abort.signal })) {
        watched.push([...r.change!.staleSegmentIds, "|", ...r.change!.freshSegmentIds]);
      }
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));

    await h.assets.setCurrentVersion({ assetId: `${p}-workflow`, version: 2 });
    const stale = await eventually(() => nats.events.find((e) => e.projectId === p && e.currentVersion === 2));
    expect(stale.staleSegmentIds).toEqual([`${p}-a`, `${p}-b`]);
    expect(stale.totalStaleScenes).toBe(2);
    expect(stale.groups[0]!.summary).toBe("2 segments across 2 scenes used workflow.bin v1 — you are on v2");

    await h.assets.setCurrentVersion({ assetId: `${p}-workflow`, version: 1 });
    const fresh = await eventually(() => nats.events.find((e) => e.projectId === p && e.currentVersion === 1));
    expect(fresh).toMatchObject({ previousVersion: 2, staleSegmentIds: [], freshSegmentIds: [`${p}-a`, `${p}-b`], totalStaleSegments: 0 });
    expect((await h.report.getStalenessReport({ projectId: p })).totalStaleSegments).toBe(0);
    await eventually(() => (watched.length === 2 ? true : undefined));
    expect(watched).toEqual([[`${p}-a`, `${p}-b`, "|"], ["|", `${p}-a`, `${p}-b`]]);
    abort.abort();
    await stream;
    nats.stop();
  });

  it("drops a superseded segment out of staleness but keeps it; a FAILED or running re-run changes nothing", async () => {
    const p = "supersede";
    const { inputs, v2 } = await project(p);
    await generate(h, { segmentId: `${p}-1`, sceneId: "s1", projectId: p }, inputs);
    await generate(h, { segmentId: `${p}-2`, sceneId: "s1", projectId: p }, inputs);
    await generate(h, { segmentId: `${p}-3`, sceneId: "s1", projectId: p }, inputs);
    await h.settle();
    await h.assets.setCurrentVersion({ assetId: `${p}-lora-a`, version: 2 });
    const newInputs: InputsSpec = { ...inputs, loras: [[`${p}-lora-a`, v2["lora-a"]!], inputs.loras[1]!] };

    // seg-1 regenerated successfully: superseded, and its replacement is fresh.
    await generate(h, { segmentId: `${p}-1r`, sceneId: "s1", projectId: p, supersedesSegmentId: `${p}-1` }, newInputs);
    // seg-2: the regeneration FAILED; seg-3: a re-run of the same segment FAILED, another is still running.
    await generate(h, { segmentId: `${p}-2r`, sceneId: "s1", projectId: p, supersedesSegmentId: `${p}-2` }, newInputs, ReceiptStatus.FAILED);
    await generate(h, { segmentId: `${p}-3`, sceneId: "s1", projectId: p }, newInputs, ReceiptStatus.FAILED);
    await generate(h, { segmentId: `${p}-3`, sceneId: "s1", projectId: p }, newInputs, ReceiptStatus.RUNNING);
    await h.settle();

    const { segments } = await h.report.listStaleSegments({ projectId: p });
    expect(segments.map((s) => s.segmentId)).toEqual([`${p}-2`, `${p}-3`]);
    const report = await h.report.getStalenessReport({ projectId: p });
    expect(report.totalStaleSegments).toBe(2);
    // seg-1 (superseded) is out; seg-1r is active; seg-2r has no successful receipt.
    expect(report.totalActiveSegments).toBe(3);
    const versions = await h.assets.listVersions({ assetId: `${p}-lora-a` });
    // Still queryable: the superseded segment's receipt keeps counting as a use of v1.
    expect(versions.versions.map((v) => [v.version, v.usageCount, v.isCurrent])).toEqual([
      [2, 1, true],
      [1, 3, false],
    ]);
  });

  it("counts inputs of unregistered assets as untracked and never stale", async () => {
    const p = "untracked";
    const { inputs } = await project(p);
    const withUnknown: InputsSpec = { ...inputs, loras: [...inputs.loras, ["lora-nobody-registered", sha("mystery")]] };
    await generate(h, { segmentId: `${p}-1`, sceneId: "s1", projectId: p }, withUnknown);
    await generate(h, { segmentId: `${p}-2`, sceneId: "s1", projectId: p }, { ...inputs, model: ["model-unknown", sha("m")] });
    await h.settle();
    const report = await h.report.getStalenessReport({ projectId: p });
    expect(report.untrackedInputs).toBe(2);
    expect(report.totalStaleSegments).toBe(0);
    expect((await h.report.listStaleSegments({ projectId: p })).segments).toEqual([]);
  });
});

describe("the story", () => {
  it("60 segments in 5 scenes; anna_lora used by 12 across 3 scenes gets v2: the report and the pushed event say so", async () => {
    const p = "story";
    const base = await project(p);
    const [annaV1] = await assetWithVersions(h, "anna-lora", AssetKind.LORA, "anna_lora", ["anna lora v1"], p);
    const annaSegments: string[] = [];
    for (let scene = 1; scene <= 5; scene++) {
      for (let i = 1; i <= 12; i++) {
        const segmentId = `${p}-sc${scene}-${String(i).padStart(2, "0")}`;
        const usesAnna = scene <= 3 && i <= 4;
        if (usesAnna) annaSegments.push(segmentId);
        const inputs: InputsSpec = usesAnna ? { ...base.inputs, loras: [["anna-lora", annaV1!], base.inputs.loras[1]!] } : base.inputs;
        await generate(h, { segmentId, sceneId: `scene-${scene}`, projectId: p }, inputs);
      }
    }
    await h.settle();
    expect((await h.report.getStalenessReport({ projectId: p })).totalActiveSegments).toBe(60);

    const nats = watchDetectedOnNats(h);
    await nats.ready;
    const abort = new AbortController();
    const watchedAt: number[] = [];
    const stream = (async () => {
      for await (const _ of h.report.watchStaleness({ projectId: p }, { signal: abort.signal })) watchedAt.push(watchedAt.length + 1);
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));

    const published = await h.assets.publishVersion({ assetId: "anna-lora", contentHash: sha("anna lora v2"), uploadedBy: "creator@example.com" });
    expect(published.version).toMatchObject({ version: 2, isCurrent: true, previousVersion: 1 });

    // How fast detection arrives is measured by `npm run bench`; here only that it arrives, and what it says.
    const event = await eventually(() => nats.events.find((e) => e.assetId === "anna-lora"), 10_000);
    expect(event.projectId).toBe(p);
    expect(event.staleSegmentIds).toEqual(annaSegments.sort());
    expect(event).toMatchObject({ previousVersion: 1, currentVersion: 2, totalStaleSegments: 12, totalStaleScenes: 3 });
    expect(event.groups[0]!.summary).toBe("12 segments across 3 scenes used anna_lora v1 — you are on v2");
    await eventually(() => watchedAt[0], 10_000);

    const report = await h.report.getStalenessReport({ projectId: p });
    expect(report.totalStaleSegments).toBe(12);
    expect(report.totalStaleScenes).toBe(3);
    expect(report.byAsset).toHaveLength(1);
    expect(report.byAsset[0]).toMatchObject({
      assetId: "anna-lora",
      assetName: "anna_lora",
      kind: AssetKind.LORA,
      receiptVersion: 1,
      currentVersion: 2,
      affectedSegments: 12,
      affectedScenes: 3,
      summary: "12 segments across 3 scenes used anna_lora v1 — you are on v2",
    });
    expect(report.byAsset[0]!.segmentIds).toEqual(annaSegments.sort());
    // The detector observes the latency once the project's transaction has committed, which may be after the relay published it.
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${h.staleness!.url}/metrics`)).text();
      return /staleness_detection_latency_seconds_count\{service="staleness"\} [1-9]/.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/consumer_lag\{consumer="[^"]+",service="staleness"\} \d+/);

    const rest = await fetch(`${h.staleness!.url}/api/projects/${p}/staleness-report`, { headers: { authorization: `Bearer ${await h.env.token()}` } });
    expect(rest.status).toBe(200);
    const json = (await rest.json()) as Record<string, any>;
    expect(json).toMatchObject({ projectId: p, totalStaleSegments: 12, totalStaleScenes: 3 });
    expect(json.byAsset[0].summary).toBe("12 segments across 3 scenes used anna_lora v1 — you are on v2");
    expect(json.byAsset[0].kind).toBe("ASSET_KIND_LORA");

    abort.abort();
    await stream;
    nats.stop();
  });
});

describe("AssetService", () => {
  it("returns the existing version for a known hash and writes nothing", async () => {
    // Two uploaders, "a" and "b" (the subjects of their tokens; what the request says is ignored).
    await h.env.setGrants([...h.env.grants, ...["a", "b"].map((subject) => ({ subject, project: "*", role: "creator" as const }))]);
    const as = (subject: string) => h.env.client(AssetService, h.staleness!.url, { subject });
    await h.assets.registerAsset({ assetId: "idem-lora", kind: AssetKind.LORA, name: "idem" });
    const first = await as("a").publishVersion({ assetId: "idem-lora", contentHash: sha("idem v1"), uploadedBy: "someone else" });
    expect(first.created).toBe(true);
    const count = async () =>
      (
        await h.sql.query(
          `SELECT (SELECT count(*) FROM staleness.asset_versions)::int AS v, coalesce(pg_sequence_last_value('staleness.outbox_seq_seq'), 0)::int AS o,
                  (SELECT max(xmin::text::bigint) FROM staleness.asset_versions) AS x`,
        )
      ).rows[0];
    const before = await count();
    const again = await as("b").publishVersion({ assetId: "idem-lora", contentHash: sha("idem v1").toUpperCase(), uploadedBy: "b", note: "again" });
    expect(again.created).toBe(false);
    expect(again.version).toMatchObject({ version: 1, uploadedBy: "a", isCurrent: true });
    expect(await count()).toEqual(before);
  });

  it("leaves exactly one current version after concurrent SetCurrentVersion calls", async () => {
    await assetWithVersions(h, "race-model", AssetKind.MODEL, "race", ["race v1", "race v2", "race v3", "race v4"]);
    const calls = Array.from({ length: 20 }, (_, i) => h.assets.setCurrentVersion({ assetId: "race-model", version: (i % 4) + 1 }));
    await Promise.all(calls);
    const rows = await h.sql.query(`SELECT version FROM staleness.asset_versions WHERE asset_id = 'race-model' AND is_current`);
    expect(rows.rows).toHaveLength(1);
    const asset = await h.assets.getAsset({ assetId: "race-model" });
    expect(asset.asset!.currentVersion).toBe(rows.rows[0].version);
    expect(asset.asset!.versionCount).toBe(4);
  });

  it("registers idempotently, generates ids, and reports conflicts, unknown ids and bad input with their codes", async () => {
    const a = await h.assets.registerAsset({ assetId: "reg-1", kind: AssetKind.WORKFLOW, name: "wf", projectId: "p1" });
    expect(a.created).toBe(true);
    const b = await h.assets.registerAsset({ assetId: "reg-1", kind: AssetKind.WORKFLOW, name: "wf", projectId: "p1" });
    expect(b.created).toBe(false);
    expect(await codeOf(h.assets.registerAsset({ assetId: "reg-1", kind: AssetKind.MODEL, name: "wf", projectId: "p1" }))).toBe(Code.AlreadyExists);
    const generated = await h.assets.registerAsset({ kind: AssetKind.MODEL, name: "anon" });
    expect(generated.asset!.assetId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await codeOf(h.assets.registerAsset({ kind: AssetKind.UNSPECIFIED, name: "x" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(h.assets.publishVersion({ assetId: "reg-1", contentHash: "sha256:abc", uploadedBy: "a" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(h.assets.publishVersion({ assetId: "nope", contentHash: sha("x"), uploadedBy: "a" }))).toBe(Code.NotFound);
    expect(await codeOf(h.assets.setCurrentVersion({ assetId: "reg-1", version: 9 }))).toBe(Code.NotFound);
    expect(await codeOf(h.assets.getVersion({ assetId: "reg-1", version: 0 }))).toBe(Code.InvalidArgument);
    expect(await codeOf(h.report.listStaleSegments({ pageSize: 5000 }))).toBe(Code.InvalidArgument);
  });

  it("keeps a timeline: versions newest first with uploader, link to the previous one and the current flag, paged", async () => {
    await assetWithVersions(h, "timeline", AssetKind.VARIANT_IMAGE, "clothed.png", ["t1", "t2", "t3"]);
    const page1 = await h.assets.listVersions({ assetId: "timeline", pageSize: 2 });
    expect(page1.versions.map((v) => [v.version, v.previousVersion, v.isCurrent])).toEqual([
      [3, 2, false],
      [2, 1, false],
    ]);
    const page2 = await h.assets.listVersions({ assetId: "timeline", pageSize: 2, pageToken: page1.nextPageToken });
    expect(page2.versions.map((v) => [v.version, v.previousVersion, v.isCurrent, v.uploadedBy])).toEqual([[1, 0, true, "creator@example.com"]]);
    expect(page2.nextPageToken).toBe("");
    const got = await h.assets.getVersion({ assetId: "timeline", version: 2 });
    expect(got.version!.contentHash).toBe(sha("t2"));
    const listed = await h.assets.listAssets({ kind: AssetKind.VARIANT_IMAGE });
    expect(listed.assets.map((x) => x.assetId)).toContain("timeline");
  });
});
