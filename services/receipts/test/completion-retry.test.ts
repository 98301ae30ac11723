/**
 * A completion retried after its reply was lost: the identical retry answers with the stored receipt and writes
 * nothing (no second event); a different completion of a completed receipt is FAILED_PRECONDITION naming what differs.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECEIPT_COMPLETED, ReceiptCompletedSchema, ReceiptStatus } from "@provenance/shared";
import { collectMessages } from "@provenance/shared/testing";
import { countRows, enqueuedEvents, receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

let h: ReceiptsHarness;

beforeAll(async () => {
  h = await startReceiptsHarness();
});
afterAll(async () => {
  await h?.close();
});

async function failure(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    const ce = ConnectError.from(err);
    return { code: ce.code, message: ce.rawMessage };
  }
  throw new Error("expected the call to fail");
}

const completedAt = timestampFromDate(new Date("2026-11-21T10:01:30.250Z"));

/** The completed events on the stream for each receipt id, once the outbox has drained. */
async function completedEventsOf(ids: string[]): Promise<number[]> {
  await enqueuedEvents(h);
  const all = await collectMessages({ js: h.nats.js, jsm: h.nats.jsm, namespace: h.nats.namespace, stream: "PROVENANCE", subject: RECEIPT_COMPLETED });
  const receiptIds = all.map((m) => fromBinary(ReceiptCompletedSchema, m.data).receipt!.receiptId);
  return ids.map((id) => receiptIds.filter((r) => r === id).length);
}

/** Rows of each table and events ever enqueued. */
async function counts(): Promise<number[]> {
  const rows = await Promise.all((["segments", "generation_receipts", "receipt_inputs"] as const).map((t) => countRows(h.sql, t)));
  return [...rows, await enqueuedEvents(h)];
}

async function completedRow(receiptId: string) {
  const { rows } = await h.sql.query(
    `SELECT status, generation_completed_at, generation_duration_ms, output_hash FROM receipts.generation_receipts WHERE receipt_id = $1`,
    [receiptId],
  );
  return rows[0];
}

describe("CompleteReceipt retried", () => {
  it("the identical retry returns the stored receipt, writes nothing, and the stream holds one completed event for it", async () => {
    const { receipt } = await h.client.createReceipt(receiptRequest({ projectId: "p-retry" }));
    const req = { receiptId: receipt!.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt, outputHash: sha("out") };
    const first = await h.client.completeReceipt(req);
    const row = await completedRow(receipt!.receiptId);
    const before = await counts();

    const retry = await h.client.completeReceipt(req);
    expect(retry.receipt).toEqual(first.receipt);
    // Upper-case hex is the same output hash.
    expect((await h.client.completeReceipt({ ...req, outputHash: sha("out").toUpperCase() })).receipt).toEqual(first.receipt);

    expect(await counts()).toEqual(before);
    expect(await completedRow(receipt!.receiptId)).toEqual(row);
    expect(await completedEventsOf([receipt!.receiptId])).toEqual([1]);
  });

  it("a different status, completed-at or output hash is FAILED_PRECONDITION naming what differs, and changes nothing", async () => {
    const { receipt } = await h.client.createReceipt(receiptRequest({ projectId: "p-retry" }));
    const req = { receiptId: receipt!.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt, outputHash: sha("out") };
    const first = await h.client.completeReceipt(req);
    const before = await counts();

    const cases: [string, typeof req][] = [
      ["status", { ...req, status: ReceiptStatus.FAILED }],
      ["generation_completed_at", { ...req, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:01:30.251Z")) }],
      ["output_hash", { ...req, outputHash: sha("another output") }],
      ["output_hash", { ...req, outputHash: "" }],
    ];
    for (const [field, changed] of cases) {
      const err = await failure(h.client.completeReceipt(changed));
      expect(err.code).toBe(Code.FailedPrecondition);
      expect(err.message).toContain("already completed");
      expect(err.message).toContain(`differs in ${field} (`);
    }
    expect(await counts()).toEqual(before);
    expect((await h.client.getReceipt({ receiptId: receipt!.receiptId })).receipt).toEqual(first.receipt);
    expect(await completedEventsOf([receipt!.receiptId])).toEqual([1]);
  });

  it("retrying a successful regeneration's completion supersedes nothing twice and emits nothing", async () => {
    const old = await h.client.createReceipt(receiptRequest({ projectId: "p-retry", segmentId: "r-old" }));
    await h.client.completeReceipt({ receiptId: old.receipt!.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt });
    const regen = await h.client.createReceipt(
      receiptRequest({ projectId: "p-retry", segmentId: "r-new", supersedesSegmentId: "r-old", regenerationJobId: "job-r" }),
    );
    const req = { receiptId: regen.receipt!.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt };
    const first = await h.client.completeReceipt(req);
    const supersededAt = (await h.sql.query(`SELECT superseded_at FROM receipts.segments WHERE segment_id = 'r-old'`)).rows[0].superseded_at;
    expect((await h.client.completeReceipt(req)).receipt).toEqual(first.receipt);
    const oldNow = await h.client.getSegmentProvenance({ segmentId: "r-old" });
    expect(oldNow.segment!.supersededBySegmentId).toBe("r-new");
    expect((await h.sql.query(`SELECT superseded_at FROM receipts.segments WHERE segment_id = 'r-old'`)).rows[0].superseded_at).toEqual(supersededAt);
    expect(await completedEventsOf([regen.receipt!.receiptId])).toEqual([1]);
  });
});

describe("CompleteReceipts retried", () => {
  it("a batch mixing identical retries and new completions completes the new ones and answers all, in order", async () => {
    const created = await h.client.createReceipts({
      receipts: [receiptRequest({ projectId: "p-mix" }), receiptRequest({ projectId: "p-mix" }), receiptRequest({ projectId: "p-mix" })],
    });
    const [a, b, c] = created.results.map((r) => r.receipt!.receiptId) as [string, string, string];
    const entry = (receiptId: string, status = ReceiptStatus.SUCCEEDED) => ({ receiptId, status, generationCompletedAt: completedAt });
    const firstBatch = await h.client.completeReceipts({ receipts: [entry(a), entry(b, ReceiptStatus.FAILED)] });

    // The first batch's reply was lost: the pipeline sends it again with one more completion.
    const res = await h.client.completeReceipts({ receipts: [entry(b, ReceiptStatus.FAILED), entry(c), entry(a)] });
    expect(res.receipts.map((r) => r.receiptId)).toEqual([b, c, a]);
    expect(res.receipts[0]).toEqual(firstBatch.receipts[1]);
    expect(res.receipts[2]).toEqual(firstBatch.receipts[0]);
    expect(res.receipts[1]!.status).toBe(ReceiptStatus.SUCCEEDED);
    expect(res.receipts[1]!.generationDurationMs).toBe(90_250n);
    expect((await h.client.getReceipt({ receiptId: c })).receipt).toEqual(res.receipts[1]);
    expect(await completedEventsOf([a, b, c])).toEqual([1, 1, 1]);

    // Entirely a retry: answered, nothing written.
    const before = await counts();
    const again = await h.client.completeReceipts({ receipts: [entry(a), entry(b, ReceiptStatus.FAILED), entry(c)] });
    expect(again.receipts).toEqual([firstBatch.receipts[0], firstBatch.receipts[1], res.receipts[1]]);
    expect(await counts()).toEqual(before);
  });

  it("a batch with one conflicting entry is FAILED_PRECONDITION naming it, and writes nothing", async () => {
    const created = await h.client.createReceipts({
      receipts: [receiptRequest({ projectId: "p-conflict" }), receiptRequest({ projectId: "p-conflict" })],
    });
    const [a, b] = created.results.map((r) => r.receipt!.receiptId) as [string, string];
    await h.client.completeReceipt({ receiptId: a, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt });
    const before = await counts();
    const err = await failure(
      h.client.completeReceipts({
        receipts: [
          { receiptId: b, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt },
          { receiptId: a, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt, outputHash: sha("late hash") },
        ],
      }),
    );
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.message).toMatch(/^receipts\[1\]\.receipt .* is already completed/);
    expect(err.message).toContain("output_hash (");
    expect(await counts()).toEqual(before);
    expect((await h.client.getReceipt({ receiptId: b })).receipt!.status).toBe(ReceiptStatus.RUNNING);
    expect(await completedEventsOf([a, b])).toEqual([1, 0]);
  });
});
