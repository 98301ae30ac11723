import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AssetKind,
  ReceiptCompletedSchema,
  ReceiptCreatedSchema,
  ReceiptSchema,
  ReceiptStatus,
  subjectFor,
  type Receipt,
} from "@provenance/shared";
import { assetWithVersions, generate, sha, startStalenessHarness, type StalenessHarness } from "./staleness-harness.js";

/** Events published straight to JetStream, as the receipts service's outbox relay would (ordering and duplicates under test control). */
describe("the projection of segment inputs, from events on JetStream", () => {
  let h: StalenessHarness;
  beforeAll(async () => {
    h = await startStalenessHarness();
    await assetWithVersions(h, "p-lora", AssetKind.LORA, "lora", ["p-lora v1", "p-lora v2"], "proj");
  });
  afterAll(async () => {
    await h?.close();
  });

  function receipt(
    segmentId: string,
    loraHash: string,
    status: ReceiptStatus,
    createdAt: Date,
    extra: { supersedesSegmentId?: string } = {},
  ): Receipt {
    const ref = (assetId: string, label: string) => ({ assetId, contentHash: sha(label), version: 0 });
    return create(ReceiptSchema, {
      receiptId: randomUUID(),
      segmentId,
      sceneId: "scene-1",
      projectId: "proj",
      characterName: "anna",
      sequenceIndex: 1,
      sourceImage: ref("p-src", "src"),
      workflow: ref("p-wf", "wf"),
      model: ref("p-model", "model"),
      loras: [{ asset: { assetId: "p-lora", contentHash: loraHash, version: 0 }, weight: 1 }],
      status,
      createdAt: timestampFromDate(createdAt),
      generationStartedAt: timestampFromDate(createdAt),
      ...extra,
    });
  }

  async function publishCreated(r: Receipt, eventId: string = randomUUID(), msgId: string = eventId): Promise<string> {
    const running: Receipt = { ...r, status: ReceiptStatus.RUNNING };
    const data = toBinary(ReceiptCreatedSchema, create(ReceiptCreatedSchema, { eventId, receipt: running }));
    await h.nats.js.publish(subjectFor(h.nats.namespace, "provenance.receipt.created"), data, { msgID: msgId });
    return eventId;
  }

  async function publishCompleted(r: Receipt, eventId: string = randomUUID(), msgId: string = eventId, superseded = ""): Promise<string> {
    const data = toBinary(ReceiptCompletedSchema, create(ReceiptCompletedSchema, { eventId, receipt: r, supersededSegmentId: superseded }));
    await h.nats.js.publish(subjectFor(h.nats.namespace, "provenance.receipt.completed"), data, { msgID: msgId });
    return eventId;
  }

  async function usageOf(version: number): Promise<number> {
    const { versions } = await h.assets.listVersions({ assetId: "p-lora" });
    return versions.find((v) => v.version === version)!.usageCount;
  }

  it("applies a redelivered or re-published event once", async () => {
    const r = receipt("dup-seg", sha("p-lora v1"), ReceiptStatus.SUCCEEDED, new Date("2026-11-01T00:00:00Z"));
    await publishCreated(r);
    const eventId = await publishCompleted(r);
    // The same event again under a new Nats-Msg-Id, so JetStream's duplicate window does not drop it.
    await publishCompleted(r, eventId, randomUUID());
    await publishCompleted(r, eventId, randomUUID());
    await h.settle();
    const inbox = await h.sql.query(`SELECT count(*)::int AS n FROM staleness.inbox WHERE event_id = $1`, [eventId]);
    expect(inbox.rows[0].n).toBe(1);
    expect(await usageOf(1)).toBe(1);
    const inputs = await h.sql.query(`SELECT count(*)::int AS n FROM staleness.segment_inputs WHERE segment_id = 'dup-seg'`);
    expect(inputs.rows[0].n).toBe(4);
  });

  it("gets the same result when completed arrives before created, and when an older success arrives last", async () => {
    const older = receipt("ooo-seg", sha("p-lora v1"), ReceiptStatus.SUCCEEDED, new Date("2026-11-02T00:00:00.000001Z"));
    const newer = receipt("ooo-seg", sha("p-lora v2"), ReceiptStatus.SUCCEEDED, new Date("2026-11-02T00:00:00.000002Z"));
    newer.createdAt = { ...older.createdAt!, nanos: older.createdAt!.nanos + 1000 } as never;
    const failed = receipt("ooo-seg", sha("p-lora v1"), ReceiptStatus.FAILED, new Date("2026-11-03T00:00:00Z"));
    await publishCompleted(newer);
    await publishCompleted(failed);
    await publishCreated(newer);
    await publishCompleted(older);
    await publishCreated(older);
    await publishCreated(failed);
    await h.settle();
    const seg = await h.sql.query(`SELECT current_receipt_id, scene_id FROM staleness.segments WHERE segment_id = 'ooo-seg'`);
    expect(seg.rows[0]).toEqual({ current_receipt_id: newer.receiptId, scene_id: "scene-1" });
    const hashes = await h.sql.query(`SELECT content_hash FROM staleness.segment_inputs WHERE segment_id = 'ooo-seg' AND role = 'lora'`);
    expect(hashes.rows.map((r) => r.content_hash)).toEqual([sha("p-lora v2")]);
  });

  it("marks a segment superseded even when its replacement's event comes first", async () => {
    const replacement = receipt("sup-new", sha("p-lora v2"), ReceiptStatus.SUCCEEDED, new Date("2026-11-04T00:00:01Z"), {
      supersedesSegmentId: "sup-old",
    });
    await publishCompleted(replacement, randomUUID(), undefined, "sup-old");
    const old = receipt("sup-old", sha("p-lora v1"), ReceiptStatus.SUCCEEDED, new Date("2026-11-04T00:00:00Z"));
    await publishCompleted(old);
    await h.settle();
    const { segments } = await h.report.listStaleSegments({ projectId: "proj" });
    expect(segments.map((s) => s.segmentId)).not.toContain("sup-old");
    const row = await h.sql.query(`SELECT superseded_by_segment_id, scene_id FROM staleness.segments WHERE segment_id = 'sup-old'`);
    expect(row.rows[0]).toEqual({ superseded_by_segment_id: "sup-new", scene_id: "scene-1" });
  });
});

/** Events written by the real receipts service while the staleness service is down are applied when it starts. */
describe("catch-up after downtime, with the real receipts service", () => {
  let h: StalenessHarness;
  beforeAll(async () => {
    h = await startStalenessHarness({ withReceipts: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("applies what was published while it was stopped", async () => {
    const [v1] = await assetWithVersions(h, "cu-lora", AssetKind.LORA, "cu_lora", ["cu v1"], "catchup");
    const inputs = {
      source: ["cu-src", sha("src")] as [string, string],
      workflow: ["cu-wf", sha("wf")] as [string, string],
      model: ["cu-model", sha("model")] as [string, string],
      loras: [["cu-lora", v1!]] as [string, string][],
    };
    await generate(h, { segmentId: "cu-1", sceneId: "s1", projectId: "catchup" }, inputs);
    await h.settle();
    await h.stopStaleness();
    for (let i = 2; i <= 6; i++) await generate(h, { segmentId: `cu-${i}`, sceneId: `s${i % 2}`, projectId: "catchup" }, inputs);
    const unrelayed = async () =>
      (await h.sql.query(`SELECT count(*)::int AS n FROM receipts.outbox`)).rows[0].n as number;
    while ((await unrelayed()) > 0) await new Promise((r) => setTimeout(r, 20));
    expect((await h.sql.query(`SELECT count(*)::int AS n FROM staleness.segments`)).rows[0].n).toBe(1);

    await h.startStaleness();
    await h.settle();
    const report = await h.report.getStalenessReport({ projectId: "catchup" });
    expect(report.totalActiveSegments).toBe(6);
    await h.assets.publishVersion({ assetId: "cu-lora", contentHash: sha("cu v2"), uploadedBy: "creator" });
    const after = await h.report.getStalenessReport({ projectId: "catchup" });
    expect(after.totalStaleSegments).toBe(6);
    expect(after.totalStaleScenes).toBe(2);
    expect(after.untrackedInputs).toBe(18);
  });
});
