import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECEIPT_JOB_HEADER, ReceiptCompletedSchema, ReceiptCreatedSchema, ReceiptStatus } from "@provenance/shared";
import { collectMessages } from "@provenance/shared/testing";
import { enqueuedEvents, receiptRequest, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

let h: ReceiptsHarness;

beforeAll(async () => {
  h = await startReceiptsHarness();
});
afterAll(async () => {
  await h?.close();
});

function read(subject: string, atLeast: number) {
  return collectMessages({ js: h.nats.js, jsm: h.nats.jsm, namespace: h.nats.namespace, stream: "PROVENANCE", subject, atLeast, timeoutMs: 10_000 });
}

describe("receipt events through the outbox", () => {
  it("each receipt produces exactly one created and one completed event, even when the relay stops mid-way", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { receipt } = await h.client.createReceipt(receiptRequest({ projectId: "p-events" }));
      ids.push(receipt!.receiptId);
    }
    // Stop the service (and its relay), then put five relayed events back in the outbox, as a relay that crashed
    // between publishing and deleting them would leave them; the restarted relay publishes them again.
    const relayed = await read("provenance.receipt.created", 10);
    await h.running.stop();
    expect((await h.sql.query("SELECT count(*)::int AS n FROM receipts.outbox")).rows[0].n).toBe(0);
    for (const m of relayed.slice(0, 5)) {
      const headers = m.headers["X-Request-Id"] ? { "X-Request-Id": m.headers["X-Request-Id"] } : {};
      await h.sql.query(`INSERT INTO receipts.outbox (id, subject, payload, headers) VALUES ($1, $2, $3, $4)`, [m.msgId, m.subject, Buffer.from(m.data), headers]);
    }
    await h.restart();
    for (let i = 0; i < 5; i++) {
      const { receipt } = await h.client.createReceipt(receiptRequest({ projectId: "p-events" }));
      ids.push(receipt!.receiptId);
    }
    for (const id of ids.slice(0, 3)) {
      await h.client.completeReceipt({ receiptId: id, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:02:00Z")) });
    }

    const created = await read("provenance.receipt.created", 15);
    // Give a wrongly repeated publish time to show up before counting.
    await new Promise((r) => setTimeout(r, 500));
    const createdAgain = await read("provenance.receipt.created", 15);
    expect(createdAgain).toHaveLength(created.length);
    const receiptIds = created.map((m) => fromBinary(ReceiptCreatedSchema, m.data).receipt!.receiptId);
    expect(receiptIds.sort()).toEqual([...ids].sort());
    expect(new Set(created.map((m) => m.msgId)).size).toBe(15);
    for (const m of created) expect(fromBinary(ReceiptCreatedSchema, m.data).eventId).toBe(m.msgId);

    const completed = await read("provenance.receipt.completed", 3);
    expect(completed).toHaveLength(3);
    const done = completed.map((m) => fromBinary(ReceiptCompletedSchema, m.data).receipt!);
    expect(done.every((r) => r.status === ReceiptStatus.SUCCEEDED && r.generationDurationMs === 120_000n)).toBe(true);

    const { rows } = await h.sql.query("SELECT count(*)::int AS n FROM receipts.outbox");
    expect(rows[0].n).toBe(0);
  });

  it("every receipt event names its regeneration job in a header, empty for a receipt of none", async () => {
    const project = "p-job-header";
    const single = await h.client.createReceipt(receiptRequest({ projectId: project, regenerationJobId: "job-h1" }));
    const batch = await h.client.createReceipts({
      receipts: [receiptRequest({ projectId: project }), receiptRequest({ projectId: project, regenerationJobId: "job-h2" })],
    });
    const ids = [single.receipt!, ...batch.results.map((r) => r.receipt!)].map((r) => r.receiptId);
    await h.client.completeReceipt({ receiptId: ids[0]!, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:02:00Z")) });
    await h.client.completeReceipts({
      receipts: [ids[1]!, ids[2]!].map((receiptId) => ({ receiptId, status: ReceiptStatus.FAILED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:03:00Z")) })),
    });
    const want = new Map([
      [ids[0]!, "job-h1"],
      [ids[1]!, ""],
      [ids[2]!, "job-h2"],
    ]);
    for (const [subject, schema] of [
      ["provenance.receipt.created", ReceiptCreatedSchema],
      ["provenance.receipt.completed", ReceiptCompletedSchema],
    ] as const) {
      const ofOurs = async () => (await read(subject, 1)).filter((m) => want.has(fromBinary(schema, m.data).receipt!.receiptId));
      let ours = await ofOurs();
      for (let tries = 0; ours.length < 3 && tries < 50; tries++) {
        await new Promise((r) => setTimeout(r, 100));
        ours = await ofOurs();
      }
      expect(ours).toHaveLength(3);
      for (const m of ours) {
        const receipt = fromBinary(schema, m.data).receipt!;
        expect(m.headers[RECEIPT_JOB_HEADER]).toBe(want.get(receipt.receiptId));
        expect(receipt.regenerationJobId).toBe(want.get(receipt.receiptId));
      }
    }
  });

  it("a rejected request enqueues nothing", async () => {
    const before = await enqueuedEvents(h);
    await expect(h.client.createReceipt(receiptRequest({ steps: 0 }))).rejects.toThrow(/steps/);
    expect(await enqueuedEvents(h)).toBe(before);
  });
});
