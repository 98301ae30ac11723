/** ListProjects and ListSegments against real PostgreSQL: counts, order, keyset paging, supersession, bad input. */
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureFields } from "@provenance/shared/testing";
import { ReceiptStatus, type SegmentListing } from "@provenance/shared";
import { countRows, receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

let h: ReceiptsHarness;

beforeAll(async () => {
  h = await startReceiptsHarness();
});
afterAll(async () => {
  await h?.close();
});

const failure = failureFields;

const at = (iso: string) => timestampFromDate(new Date(iso));

/** Every segment ListSegments returns for `req`, page by page; also the number of pages. */
async function allSegments(req: { projectId: string; sceneId?: string; includeSuperseded?: boolean; pageSize?: number }): Promise<{ segments: SegmentListing[]; pages: number }> {
  const segments: SegmentListing[] = [];
  let pageToken = "";
  let pages = 0;
  do {
    const page = await h.client.listSegments({ ...req, pageToken });
    segments.push(...page.segments);
    pageToken = page.nextPageToken;
    pages += 1;
  } while (pageToken !== "" && pages < 100);
  return { segments, pages };
}

/**
 * Project "film": scene-a has seg-a1 (SUCCEEDED then a newer RUNNING retake), seg-a2 (FAILED only) and seg-a3
 * (superseded by seg-a3b, whose receipt SUCCEEDED); scene-b has seg-b1 (RUNNING) and seg-b2 (SUCCEEDED, then FAILED).
 * Every input names assets no AssetService ever registered.
 */
async function recordFilm(): Promise<Record<string, string[]>> {
  const receiptsOf: Record<string, string[]> = {};
  const unregistered = {
    sourceImage: { assetId: "never-registered-src", contentHash: sha("unregistered src"), version: 0 },
    variantImage: undefined,
    loras: [{ asset: { assetId: "never-registered-lora", contentHash: sha("unregistered lora"), version: 0 }, weight: 1 }],
  };
  const create = async (segmentId: string, sceneId: string, sequenceIndex: number, extra: Parameters<typeof receiptRequest>[0] = {}) => {
    const { receipt } = await h.client.createReceipt(receiptRequest({ projectId: "film", segmentId, sceneId, sequenceIndex, ...unregistered, ...extra }));
    (receiptsOf[segmentId] ??= []).push(receipt!.receiptId);
    return receipt!.receiptId;
  };
  const complete = (receiptId: string, status: ReceiptStatus) =>
    h.client.completeReceipt({ receiptId, status, generationCompletedAt: at("2026-11-21T10:05:00Z") });

  await complete(await create("seg-a1", "scene-a", 1), ReceiptStatus.SUCCEEDED);
  await create("seg-a1", "scene-a", 1, { seed: 2n });
  await complete(await create("seg-a2", "scene-a", 2), ReceiptStatus.FAILED);
  await complete(await create("seg-a3", "scene-a", 3), ReceiptStatus.SUCCEEDED);
  await complete(await create("seg-a3b", "scene-a", 3, { supersedesSegmentId: "seg-a3", regenerationJobId: "job-1" }), ReceiptStatus.SUCCEEDED);
  await create("seg-b1", "scene-b", 1);
  await complete(await create("seg-b2", "scene-b", 2), ReceiptStatus.SUCCEEDED);
  await complete(await create("seg-b2", "scene-b", 2, { seed: 3n }), ReceiptStatus.FAILED);
  return receiptsOf;
}

let film: Record<string, string[]>;

describe("ListSegments", () => {
  beforeAll(async () => {
    film = await recordFilm();
  });

  it("lists a project's active segments by scene, sequence index and segment id, each with its receipts' summary", async () => {
    const res = await h.client.listSegments({ projectId: "film" });
    expect(res.nextPageToken).toBe("");
    expect(res.segments.map((l) => l.segment!.segmentId)).toEqual(["seg-a1", "seg-a2", "seg-a3b", "seg-b1", "seg-b2"]);
    const byId = new Map(res.segments.map((l) => [l.segment!.segmentId, l]));
    expect(byId.get("seg-a1")).toMatchObject({ currentReceiptId: film["seg-a1"]![0], latestStatus: ReceiptStatus.RUNNING, receiptCount: 2 });
    expect(byId.get("seg-a2")).toMatchObject({ currentReceiptId: "", latestStatus: ReceiptStatus.FAILED, receiptCount: 1 });
    expect(byId.get("seg-a3b")).toMatchObject({ currentReceiptId: film["seg-a3b"]![0], latestStatus: ReceiptStatus.SUCCEEDED, receiptCount: 1 });
    expect(byId.get("seg-b1")).toMatchObject({ currentReceiptId: "", latestStatus: ReceiptStatus.RUNNING, receiptCount: 1 });
    expect(byId.get("seg-b2")).toMatchObject({ currentReceiptId: film["seg-b2"]![0], latestStatus: ReceiptStatus.FAILED, receiptCount: 2 });
    const a3b = byId.get("seg-a3b")!.segment!;
    expect([a3b.sceneId, a3b.projectId, a3b.sequenceIndex, a3b.supersedesSegmentId, a3b.active]).toEqual(["scene-a", "film", 3, "seg-a3", true]);

    // The current receipt is GetSegmentProvenance's (the domain rule), segment by segment.
    for (const l of res.segments) {
      const prov = await h.client.getSegmentProvenance({ segmentId: l.segment!.segmentId });
      expect(l.currentReceiptId).toBe(prov.currentReceipt?.receiptId ?? "");
      expect(l.receiptCount).toBe(prov.history.length);
      expect(l.latestStatus).toBe(prov.history[0]!.status);
      expect(l.segment).toEqual(prov.segment);
    }
  });

  it("hides superseded segments unless include_superseded, and filters one scene", async () => {
    const all = await h.client.listSegments({ projectId: "film", includeSuperseded: true });
    expect(all.segments.map((l) => l.segment!.segmentId)).toEqual(["seg-a1", "seg-a2", "seg-a3", "seg-a3b", "seg-b1", "seg-b2"]);
    const old = all.segments.find((l) => l.segment!.segmentId === "seg-a3")!;
    expect(old.segment!.active).toBe(false);
    expect(old.segment!.supersededBySegmentId).toBe("seg-a3b");
    expect(old.currentReceiptId).toBe(film["seg-a3"]![0]);

    const sceneB = await h.client.listSegments({ projectId: "film", sceneId: "scene-b" });
    expect(sceneB.segments.map((l) => l.segment!.segmentId)).toEqual(["seg-b1", "seg-b2"]);
    const sceneA = await h.client.listSegments({ projectId: "film", sceneId: "scene-a", includeSuperseded: true });
    expect(sceneA.segments.map((l) => l.segment!.segmentId)).toEqual(["seg-a1", "seg-a2", "seg-a3", "seg-a3b"]);
  });

  it("pages with opaque tokens: every segment once, in order, whatever the page size", async () => {
    const whole = (await h.client.listSegments({ projectId: "film", includeSuperseded: true, pageSize: 1000 })).segments;
    for (const pageSize of [1, 2, 4]) {
      const { segments, pages } = await allSegments({ projectId: "film", includeSuperseded: true, pageSize });
      expect(segments).toEqual(whole);
      expect(pages).toBe(Math.ceil(whole.length / pageSize));
    }
    const sceneA = await allSegments({ projectId: "film", sceneId: "scene-a", pageSize: 2 });
    expect(sceneA.segments.map((l) => l.segment!.segmentId)).toEqual(["seg-a1", "seg-a2", "seg-a3b"]);
    expect(sceneA.pages).toBe(2);
  });

  it("pages 100 segments by default, ties of sequence index broken by segment id", async () => {
    const receipts = Array.from({ length: 130 }, (_, i) =>
      receiptRequest({ projectId: "big", sceneId: "scene-1", sequenceIndex: i % 10, segmentId: `seg-${String(i).padStart(3, "0")}` }),
    );
    await h.client.createReceipts({ receipts });
    const first = await h.client.listSegments({ projectId: "big" });
    expect(first.segments).toHaveLength(100);
    expect(first.nextPageToken).not.toBe("");
    const second = await h.client.listSegments({ projectId: "big", pageToken: first.nextPageToken });
    expect(second.segments).toHaveLength(30);
    expect(second.nextPageToken).toBe("");
    const expected = receipts
      .map((r) => [r.sequenceIndex, r.segmentId] as const)
      .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1))
      .map(([, id]) => id);
    expect([...first.segments, ...second.segments].map((l) => l.segment!.segmentId)).toEqual(expected);
  });

  it("an unknown project is an empty list", async () => {
    const res = await h.client.listSegments({ projectId: "no-such-project" });
    expect(res.segments).toEqual([]);
    expect(res.nextPageToken).toBe("");
  });

  it("bad input is INVALID_ARGUMENT naming the field: no project_id, a bad page token, a page size above 1000", async () => {
    const noProject = await failure(h.client.listSegments({ sceneId: "scene-a" }));
    expect(noProject.code).toBe(Code.InvalidArgument);
    expect(noProject.field).toBe("project_id");
    expect(noProject.message).toContain("project_id");
    for (const pageToken of ["garbage", "djE6bm90IGpzb24"]) {
      const bad = await failure(h.client.listSegments({ projectId: "film", pageToken }));
      expect(bad.code).toBe(Code.InvalidArgument);
      expect(bad.field).toBe("page_token");
    }
    const tooBig = await failure(h.client.listSegments({ projectId: "film", pageSize: 1001 }));
    expect(tooBig.code).toBe(Code.InvalidArgument);
    expect(tooBig.field).toBe("page_size");
  });
});

describe("ListProjects", () => {
  it("lists every project with segments in id order, with scene and segment counts and its newest receipt's time", async () => {
    for (const p of ["p-1", "p-2", "p-3"]) {
      await h.client.createReceipts({
        receipts: [receiptRequest({ projectId: p, sceneId: "s-1" }), receiptRequest({ projectId: p, sceneId: "s-2" })],
      });
    }
    const res = await h.client.listProjects({});
    expect(res.nextPageToken).toBe("");
    expect(res.projects.map((p) => p.projectId)).toEqual(["big", "film", "p-1", "p-2", "p-3"]);
    const filmSummary = res.projects.find((p) => p.projectId === "film")!;
    expect([filmSummary.sceneCount, filmSummary.activeSegmentCount, filmSummary.supersededSegmentCount]).toEqual([2, 5, 1]);
    const big = res.projects.find((p) => p.projectId === "big")!;
    expect([big.sceneCount, big.activeSegmentCount, big.supersededSegmentCount]).toEqual([1, 130, 0]);

    const { rows } = await h.sql.query(
      `SELECT DISTINCT ON (s.project_id) s.project_id, r.created_at AS newest FROM receipts.generation_receipts r
         JOIN receipts.segments s USING (segment_id) ORDER BY s.project_id, r.seq DESC`,
    );
    const newest = new Map(rows.map((r) => [r.project_id as string, (r.newest as Date).getTime()]));
    for (const p of res.projects) expect(timestampDate(p.lastRecordedAt!).getTime()).toBe(newest.get(p.projectId));
  });

  it("pages with opaque tokens, and rejects a bad token as INVALID_ARGUMENT on page_token", async () => {
    const ids: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await h.client.listProjects({ pageSize: 2, pageToken });
      expect(page.projects.length).toBeLessThanOrEqual(2);
      ids.push(...page.projects.map((p) => p.projectId));
      pageToken = page.nextPageToken;
      pages += 1;
    } while (pageToken !== "" && pages < 10);
    expect(ids).toEqual(["big", "film", "p-1", "p-2", "p-3"]);
    expect(pages).toBe(3);

    const before = await countRows(h.sql, "segments");
    const bad = await failure(h.client.listProjects({ pageToken: "garbage" }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.field).toBe("page_token");
    expect(await countRows(h.sql, "segments")).toBe(before);
  });
});
