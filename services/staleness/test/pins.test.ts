import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetKind, PinState, StalenessService } from "@provenance/shared";
import { failureOf } from "@provenance/shared/testing";
import { UPLOADER, assetWithVersions, eventually, startStalenessHarness, watchDetectedOnNats, type StalenessHarness } from "./staleness-harness.js";

/**
 * PinSegments / UnpinSegments / ListPins on a real service, PostgreSQL and NATS: a pinned scene is not stale for the
 * asset while the asset stays on the version it was on when pinned, the report lists it as pinned with who, why and
 * until, and it is stale again — with a StalenessDetected — when the asset moves past that version, when the pin
 * expires (the expiry timer) or when it is unpinned. The projection is filled with SQL, as the consumer would leave it.
 */
describe("pins", () => {
  let h: StalenessHarness;
  let nats: ReturnType<typeof watchDetectedOnNats>;
  const P = "pin-p";
  let v1 = "";

  /** Segments `prefix-1..n` in `scene` of project `project`, each one LoRA input of `asset` with `hash`. */
  async function segments(project: string, scene: string, prefix: string, n: number, asset: string, hash: string): Promise<string[]> {
    const ids = Array.from({ length: n }, (_, k) => `${prefix}-${k + 1}`);
    await h.sql.query(
      `INSERT INTO staleness.segments (segment_id, project_id, scene_id, character_name, sequence_index, current_receipt_id, current_receipt_created_at)
       SELECT id, $2, $3, 'anna', 1, 'r-' || id, now() FROM unnest($1::text[]) id`,
      [ids, project, scene],
    );
    await h.sql.query(
      `INSERT INTO staleness.segment_inputs (segment_id, role, position, asset_id, content_hash, receipt_id, project_id, scene_id)
       SELECT id, 'lora', 0, $4, $5, 'r-' || id, $2, $3 FROM unnest($1::text[]) id`,
      [ids, project, scene, asset, hash],
    );
    return ids;
  }

  /** Stale segment ids of the project, by ListStaleSegments. */
  async function staleIds(project: string): Promise<string[]> {
    return (await h.report.listStaleSegments({ projectId: project, pageSize: 1000 })).segments.map((s) => s.segmentId);
  }

  /** Waits until every detection task is finished and the outbox relayed, then for this connection to have what NATS delivered. */
  async function relayed(): Promise<void> {
    const waiting = `SELECT (SELECT count(*) FROM staleness.outbox)::int + (SELECT count(*) FROM staleness.detection_tasks WHERE finished_at IS NULL)::int AS n`;
    await eventually(async () => ((await h.sql.query(waiting)).rows[0].n === 0 ? true : undefined), 10_000);
    await h.nats.nc.flush();
  }

  beforeAll(async () => {
    h = await startStalenessHarness({ staleness: { pinExpiryCheckMs: 100 } });
    nats = watchDetectedOnNats(h);
    await nats.ready;
  });
  afterAll(async () => {
    nats?.stop();
    await h?.close();
  });

  it("a pinned scene is not stale, is listed as pinned (who, why, until), and is stale again with an event when the asset moves past", async () => {
    [v1] = await assetWithVersions(h, "pin-lora", AssetKind.LORA, "anna_lora", ["pin lora v1", "pin lora v2", "pin lora v3"], P);
    const held = await segments(P, "s1", "pin-s1", 3, "pin-lora", v1!);
    const other = await segments(P, "s2", "pin-s2", 2, "pin-lora", v1!);
    await h.uploader.setCurrentVersion({ assetId: "pin-lora", version: 2 });
    await relayed();
    expect(await staleIds(P)).toEqual([...held, ...other].sort());

    const creator = h.env.client(StalenessService, h.staleness!.url, { subject: UPLOADER });
    const until = new Date(Date.now() + 3_600_000);
    const before = nats.events.length;
    const res = await creator.pinSegments({
      projectId: P,
      sceneId: "s1",
      assetId: "pin-lora",
      version: 1,
      reason: "this scene stays on anna_lora v1 on purpose",
      expiresAt: timestampFromDate(until),
    });
    expect(res.created).toBe(true);
    expect(res.pinnedSegments).toBe(3);
    expect(res.pin).toMatchObject({ projectId: P, sceneId: "s1", assetId: "pin-lora", version: 1, acceptedVersion: 2, pinnedBy: UPLOADER, state: PinState.ACTIVE });

    expect(await staleIds(P)).toEqual(other);
    const report = await h.report.getStalenessReport({ projectId: P });
    expect(report.totalStaleSegments).toBe(2);
    expect(report.pinnedSegments).toBe(3);
    expect(report.pinned.map((p) => p.segmentId)).toEqual(held);
    expect(report.pinned[0]).toMatchObject({ assetName: "anna_lora", version: 1, currentVersion: 2, pinId: res.pin!.pinId, pinnedBy: UPLOADER, reason: "this scene stays on anna_lora v1 on purpose" });
    expect(timestampDate(report.pinned[0]!.expiresAt!).getTime()).toBe(until.getTime());

    // Pinning published the change: the scene's segments are no longer stale because of the asset.
    await relayed();
    const pinned = nats.events.slice(before).filter((e) => e.assetId === "pin-lora");
    expect(pinned).toHaveLength(1);
    expect(pinned[0]).toMatchObject({ projectId: P, previousVersion: 2, currentVersion: 2, freshSegmentIds: held, staleSegmentIds: [] });

    // An exact retry returns the pin and writes nothing.
    const rows = async () => (await h.sql.query(`SELECT (SELECT count(*) FROM staleness.pins)::int + (SELECT count(*) FROM staleness.outbox)::int AS n`)).rows[0].n;
    const n = await rows();
    const again = await creator.pinSegments({ projectId: P, sceneId: "s1", assetId: "pin-lora", version: 1, reason: "this scene stays on anna_lora v1 on purpose", expiresAt: timestampFromDate(until) });
    expect(again).toMatchObject({ created: false, pinnedSegments: 3 });
    expect(again.pin!.pinId).toBe(res.pin!.pinId);
    expect(await rows()).toBe(n);

    // The asset moves past the accepted version: stale again, reported by the change's own detection.
    const moved = nats.events.length;
    await h.uploader.setCurrentVersion({ assetId: "pin-lora", version: 3 });
    const detected = await eventually(() => nats.events.slice(moved).find((e) => e.assetId === "pin-lora" && e.currentVersion === 3), 10_000);
    expect(detected.staleSegmentIds).toEqual([...held, ...other].sort());
    expect(await staleIds(P)).toEqual([...held, ...other].sort());
    expect((await h.report.getStalenessReport({ projectId: P })).pinnedSegments).toBe(0);
    const listed = await h.report.listPins({ projectId: P });
    expect(listed.pins.map((p) => [p.pinId, p.state])).toEqual([[res.pin!.pinId, PinState.LAPSED]]);

    // Back to the accepted version (a rollback): the pin holds again, and detection says so.
    const back = nats.events.length;
    await h.uploader.setCurrentVersion({ assetId: "pin-lora", version: 2 });
    const returned = await eventually(() => nats.events.slice(back).find((e) => e.assetId === "pin-lora" && e.currentVersion === 2), 10_000);
    expect(returned).toMatchObject({ staleSegmentIds: other, freshSegmentIds: held });
    expect(await staleIds(P)).toEqual(other);
  });

  it("unpinning makes the segments stale again with an event; unpinning again changes nothing", async () => {
    const pins = await h.report.listPins({ projectId: P });
    const pin = pins.pins[0]!;
    await relayed();
    const before = nats.events.length;
    const res = await h.report.unpinSegments({ projectId: P, pinId: pin.pinId });
    expect(res.pin).toMatchObject({ state: PinState.UNPINNED, unpinnedBy: "test:admin" });
    expect((await staleIds(P)).length).toBe(5);
    await relayed();
    const events = nats.events.slice(before).filter((e) => e.assetId === "pin-lora");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ staleSegmentIds: ["pin-s1-1", "pin-s1-2", "pin-s1-3"], freshSegmentIds: [], totalStaleSegments: 3 });
    const again = await h.report.unpinSegments({ projectId: P, pinId: pin.pinId });
    expect(again.pin!.unpinnedAt).toEqual(res.pin!.unpinnedAt);
    await relayed();
    expect(nats.events.slice(before).filter((e) => e.assetId === "pin-lora")).toHaveLength(1);
    expect((await h.report.listPins({ projectId: P })).pins).toEqual([]);
    expect((await h.report.listPins({ projectId: P, includeEnded: true })).pins.map((p) => p.pinId)).toEqual([pin.pinId]);
  });

  it("a pin of listed segments holds only those; at its expiry the timer makes them stale again with one event", async () => {
    const [w1] = await assetWithVersions(h, "pin-model", AssetKind.MODEL, "wan", ["pin model v1", "pin model v2"], P);
    const ids = await segments(P, "s3", "pin-s3", 4, "pin-model", w1!);
    await h.uploader.setCurrentVersion({ assetId: "pin-model", version: 2 });
    await relayed();
    const before = nats.events.length;
    const res = await h.report.pinSegments({
      projectId: P,
      segmentIds: [ids[0]!, ids[2]!],
      assetId: "pin-model",
      version: 1,
      reason: "approved take",
      expiresAt: timestampFromDate(new Date(Date.now() + 1_500)),
    });
    expect(res.pinnedSegments).toBe(2);
    expect(res.pin!.segmentIds).toEqual([ids[0], ids[2]]);
    const stale = await staleIds(P);
    expect(stale.filter((id) => id.startsWith("pin-s3"))).toEqual([ids[1], ids[3]]);

    // The timer (every 100 ms here) deals with the expiry once: stale again, one event.
    await eventually(async () => ((await staleIds(P)).filter((id) => id.startsWith("pin-s3")).length === 4 ? true : undefined), 5_000);
    await eventually(() => nats.events.slice(before).find((e) => e.assetId === "pin-model" && e.staleSegmentIds.length > 0), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    await relayed();
    const all = nats.events.slice(before).filter((e) => e.assetId === "pin-model");
    expect(all.map((e) => [e.freshSegmentIds, e.staleSegmentIds])).toEqual([
      [[ids[0], ids[2]], []],
      [[], [ids[0], ids[2]]],
    ]);
    const row = await h.sql.query(`SELECT expiry_detected_at IS NOT NULL AS done FROM staleness.pins WHERE pin_id = $1`, [res.pin!.pinId]);
    expect(row.rows[0].done).toBe(true);
    expect((await h.report.listPins({ projectId: P, includeEnded: true })).pins.find((p) => p.pinId === res.pin!.pinId)!.state).toBe(PinState.EXPIRED);
  });

  it("refuses bad pins with INVALID_ARGUMENT naming the field (NOT_FOUND for another project's asset), writing nothing", async () => {
    await assetWithVersions(h, "pin-foreign", AssetKind.LORA, "ben_lora", ["pin foreign v1", "pin foreign v2"], "pin-other");
    await segments("pin-other", "s9", "pin-o", 1, "pin-foreign", v1);
    const ok = { projectId: P, sceneId: "s2", assetId: "pin-lora", version: 1, reason: "why" };
    const count = async () => (await h.sql.query(`SELECT (SELECT count(*) FROM staleness.pins)::int + (SELECT count(*) FROM staleness.pin_segments)::int AS n`)).rows[0].n;
    const n = await count();
    const cases: [Record<string, unknown>, Code, string][] = [
      [{ ...ok, sceneId: "" }, Code.InvalidArgument, "scene_id"],
      [{ ...ok, segmentIds: ["pin-s2-1"] }, Code.InvalidArgument, "segment_ids"],
      [{ ...ok, expiresAt: timestampFromDate(new Date(Date.now() - 1000)) }, Code.InvalidArgument, "expires_at"],
      [{ ...ok, version: 9 }, Code.InvalidArgument, "version"],
      [{ ...ok, version: 2 }, Code.InvalidArgument, "version"],
      [{ ...ok, reason: "" }, Code.InvalidArgument, "reason"],
      [{ ...ok, sceneId: "no-such-scene" }, Code.InvalidArgument, "scene_id"],
      [{ ...ok, sceneId: "", segmentIds: ["pin-s2-1", "pin-o-1"] }, Code.InvalidArgument, "segment_ids[1]"],
      [{ ...ok, sceneId: "", segmentIds: Array.from({ length: 1001 }, (_, k) => `x${k}`) }, Code.InvalidArgument, "segment_ids"],
      [{ ...ok, assetId: "pin-foreign" }, Code.NotFound, "pin-foreign"],
      [{ ...ok, assetId: "no-such-asset" }, Code.NotFound, "no-such-asset"],
    ];
    for (const [req, code, field] of cases) {
      const err = await failureOf(h.report.pinSegments(req));
      expect([err.code, err.rawMessage.includes(field)], `${field}: ${err.rawMessage}`).toEqual([code, true]);
    }
    expect((await failureOf(h.report.unpinSegments({ projectId: "pin-other", pinId: (await h.report.listPins({ projectId: P, includeEnded: true })).pins[0]!.pinId }))).code).toBe(
      Code.NotFound,
    );
    expect(await count()).toBe(n);
  });
});
