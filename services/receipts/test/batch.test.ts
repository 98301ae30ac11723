/** CreateReceipts / CompleteReceipts: the bulk write path, all or nothing, against real PostgreSQL and NATS. */
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptCompletedSchema, ReceiptCreatedSchema, ReceiptStatus, computeInputsHash } from "@provenance/shared";
import { collectMessages, failureFields } from "@provenance/shared/testing";
import { countRows, enqueuedEvents, receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

let h: ReceiptsHarness;

beforeAll(async () => {
  h = await startReceiptsHarness();
});
afterAll(async () => {
  await h?.close();
});

const failure = failureFields;

/** Rows of each table, and events ever enqueued (the relay deletes what it published, so not the outbox's rows). */
async function counts(): Promise<number[]> {
  const rows = await Promise.all((["segments", "generation_receipts", "receipt_inputs"] as const).map((t) => countRows(h.sql, t)));
  return [...rows, await enqueuedEvents(h)];
}

const completedAt = timestampFromDate(new Date("2026-11-21T10:05:00Z"));

describe("CreateReceipts", () => {
  it("records every receipt of a batch with its inputs, in order, and emits one created event each", async () => {
    const reqs = [
      receiptRequest({ projectId: "p-batch", segmentId: "b-1" }),
      receiptRequest({
        projectId: "p-batch",
        segmentId: "b-2",
        variantImage: undefined,
        loras: [
          { asset: { assetId: "lora-a", contentHash: sha("lora a"), version: 2 }, weight: 0.5 },
          { asset: { assetId: "lora-b", contentHash: sha("lora b"), version: 1 }, weight: -1.25 },
        ],
      }),
      receiptRequest({ projectId: "p-batch", segmentId: "b-3", loras: [] }),
    ];
    const res = await h.client.createReceipts({ receipts: reqs });
    expect(res.results.map((r) => r.created)).toEqual([true, true, true]);
    expect(res.results.map((r) => r.receipt!.segmentId)).toEqual(["b-1", "b-2", "b-3"]);
    const inOrder = await h.sql.query(
      "SELECT segment_id FROM receipts.generation_receipts WHERE receipt_id = ANY($1::uuid[]) ORDER BY seq",
      [res.results.map((r) => r.receipt!.receiptId)],
    );
    expect(inOrder.rows.map((r) => r.segment_id)).toEqual(["b-1", "b-2", "b-3"]);

    // What was stored is what a single CreateReceipt stores: the same inputs, the spec's inputs hash.
    const second = reqs[1]!;
    const stored = await h.client.getReceipt({ receiptId: res.results[1]!.receipt!.receiptId });
    const r = stored.receipt!;
    expect([r.sourceImage!.assetId, r.variantImage, r.workflow!.assetId, r.model!.assetId]).toEqual(["src-anna", undefined, "wf-i2v", "model-wan"]);
    expect(r.loras.map((l) => [l.asset!.assetId, l.asset!.version, l.weight])).toEqual([
      ["lora-a", 2, 0.5],
      ["lora-b", 1, -1.25],
    ]);
    const { rows } = await h.sql.query(
      "SELECT role, position FROM receipts.receipt_inputs WHERE receipt_id = $1 ORDER BY role, position",
      [r.receiptId],
    );
    expect(rows.map((x) => `${x.role}:${x.position}`)).toEqual(["lora:0", "lora:1", "model:0", "source_image:0", "workflow:0"]);
    expect(stored.receipt!.inputsHash).toBe(
      computeInputsHash({
        sourceImageHash: second.sourceImage!.contentHash,
        variantImageHash: null,
        workflowHash: second.workflow!.contentHash,
        modelHash: second.model!.contentHash,
        loras: second.loras.map((l) => ({ hash: l.asset!.contentHash, weight: l.weight })),
        promptText: second.promptText,
        negativePrompt: second.negativePrompt,
        cfgScale: second.cfgScale,
        seed: second.seed,
        steps: second.steps,
        sampler: second.sampler,
        width: second.resolutionWidth,
        height: second.resolutionHeight,
        params: {},
      }),
    );
    expect(stored.receipt).toEqual(res.results[1]!.receipt);

    const events = await collectMessages({
      js: h.nats.js,
      jsm: h.nats.jsm,
      namespace: h.nats.namespace,
      stream: "PROVENANCE",
      subject: "provenance.receipt.created",
      atLeast: 3,
      timeoutMs: 10_000,
    });
    const ours = events
      .map((m) => fromBinary(ReceiptCreatedSchema, m.data).receipt!)
      .filter((r) => r.projectId === "p-batch");
    expect(ours.map((r) => r.segmentId)).toEqual(["b-1", "b-2", "b-3"]);

    // The same batch again is a retry: the same receipts, nothing new written.
    const before = await counts();
    const again = await h.client.createReceipts({ receipts: reqs });
    expect(again.results.map((r) => r.created)).toEqual([false, false, false]);
    expect(again.results.map((r) => r.receipt!.receiptId)).toEqual(res.results.map((r) => r.receipt!.receiptId));
    expect(await counts()).toEqual(before);
  });

  it("a bad entry is INVALID_ARGUMENT naming receipts[i] and its field, and nothing of the batch is written", async () => {
    const before = await counts();
    const bad = await failure(
      h.client.createReceipts({
        receipts: [
          receiptRequest({ projectId: "p-bad" }),
          receiptRequest({ projectId: "p-bad", model: { assetId: "model-wan", contentHash: "not-a-hash", version: 1 } }),
        ],
      }),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.field).toBe("receipts[1].model.content_hash");
    expect(bad.message).toMatch(/^receipts\[1\]\.model\.content_hash: /);

    const repeated = receiptRequest({ projectId: "p-bad" });
    const dup = await failure(
      h.client.createReceipts({ receipts: [repeated, receiptRequest({ projectId: "p-bad", idempotencyKey: repeated.idempotencyKey })] }),
    );
    expect(dup.code).toBe(Code.InvalidArgument);
    expect(dup.field).toBe("receipts[1].idempotency_key");

    const empty = await failure(h.client.createReceipts({ receipts: [] }));
    expect(empty.code).toBe(Code.InvalidArgument);
    expect(empty.field).toBe("receipts");
    const tooMany = await failure(h.client.createReceipts({ receipts: Array.from({ length: 1001 }, () => receiptRequest()) }));
    expect(tooMany.code).toBe(Code.InvalidArgument);
    expect(tooMany.message).toContain("at most 1000");

    // Rejected by the database state, after the first entries were inserted: rolled back as a whole.
    const unknownOld = await failure(
      h.client.createReceipts({
        receipts: [receiptRequest({ projectId: "p-bad" }), receiptRequest({ projectId: "p-bad", supersedesSegmentId: "nowhere" })],
      }),
    );
    expect(unknownOld.code).toBe(Code.InvalidArgument);
    expect(unknownOld.field).toBe("receipts[1].supersedes_segment_id");
    expect(await counts()).toEqual(before);
  });

  it("a key reused with other content, or a segment moving, rejects the whole batch", async () => {
    const first = receiptRequest({ projectId: "p-conflict", segmentId: "c-1" });
    await h.client.createReceipts({ receipts: [first] });
    const before = await counts();
    const conflict = await failure(
      h.client.createReceipts({
        receipts: [receiptRequest({ projectId: "p-conflict" }), { ...first, promptText: "something else" }],
      }),
    );
    expect(conflict.code).toBe(Code.AlreadyExists);
    expect(conflict.message).toMatch(/^receipts\[1\]\.idempotency_key/);
    const moved = await failure(
      h.client.createReceipts({
        receipts: [receiptRequest({ projectId: "p-conflict" }), receiptRequest({ projectId: "p-conflict", segmentId: "c-1", sceneId: "elsewhere" })],
      }),
    );
    expect(moved.code).toBe(Code.FailedPrecondition);
    expect(moved.message).toMatch(/^receipts\[1\]\.scene_id/);
    expect(await counts()).toEqual(before);
  });
});

describe("CompleteReceipts", () => {
  it("completes a batch, supersedes in the same transaction, and emits one completed event each", async () => {
    const created = await h.client.createReceipts({
      receipts: [
        receiptRequest({ projectId: "p-done", segmentId: "d-old" }),
        receiptRequest({ projectId: "p-done", segmentId: "d-2" }),
      ],
    });
    const [old, two] = created.results.map((r) => r.receipt!.receiptId);
    const regen = await h.client.createReceipts({
      receipts: [receiptRequest({ projectId: "p-done", segmentId: "d-new", supersedesSegmentId: "d-old", regenerationJobId: "job-9" })],
    });
    const fresh = regen.results[0]!.receipt!.receiptId;
    const res = await h.client.completeReceipts({
      receipts: [
        { receiptId: old!, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt, outputHash: sha("out old").toUpperCase() },
        { receiptId: two!, status: ReceiptStatus.FAILED, generationCompletedAt: completedAt },
        { receiptId: fresh, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt },
      ],
    });
    expect(res.receipts.map((r) => r.status)).toEqual([ReceiptStatus.SUCCEEDED, ReceiptStatus.FAILED, ReceiptStatus.SUCCEEDED]);
    expect(res.receipts[0]!.outputHash).toBe(sha("out old"));
    expect(res.receipts.every((r) => r.generationDurationMs === 300_000n)).toBe(true);
    const oldProv = await h.client.getSegmentProvenance({ segmentId: "d-old" });
    expect(oldProv.segment!.supersededBySegmentId).toBe("d-new");

    const events = await collectMessages({
      js: h.nats.js,
      jsm: h.nats.jsm,
      namespace: h.nats.namespace,
      stream: "PROVENANCE",
      subject: "provenance.receipt.completed",
      atLeast: 3,
      timeoutMs: 10_000,
    });
    const ours = events
      .map((m) => fromBinary(ReceiptCompletedSchema, m.data))
      .filter((e) => e.receipt!.projectId === "p-done");
    expect(ours.map((e) => [e.receipt!.segmentId, e.supersededSegmentId])).toEqual([
      ["d-old", ""],
      ["d-2", ""],
      ["d-new", "d-old"],
    ]);
  });

  it("one entry that cannot complete leaves every receipt of the batch running", async () => {
    const created = await h.client.createReceipts({
      receipts: [receiptRequest({ projectId: "p-half" }), receiptRequest({ projectId: "p-half" }), receiptRequest({ projectId: "p-half" })],
    });
    const [a, b, c] = created.results.map((r) => r.receipt!.receiptId) as [string, string, string];
    await h.client.completeReceipt({ receiptId: c, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt });
    const before = await counts();

    const twice = await failure(
      h.client.completeReceipts({
        receipts: [
          { receiptId: a, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt },
          // A different completion of a completed receipt (the identical one is a retry, answered with the receipt).
          { receiptId: c, status: ReceiptStatus.FAILED, generationCompletedAt: completedAt },
        ],
      }),
    );
    expect(twice.code).toBe(Code.FailedPrecondition);
    expect(twice.message).toMatch(/^receipts\[1\]\. ?receipt .* is already completed/);

    const early = await failure(
      h.client.completeReceipts({
        receipts: [
          { receiptId: a, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt },
          { receiptId: b, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T09:00:00Z")) },
        ],
      }),
    );
    expect(early.code).toBe(Code.InvalidArgument);
    expect(early.field).toBe("receipts[1].generation_completed_at");

    const missing = await failure(
      h.client.completeReceipts({
        receipts: [
          { receiptId: a, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt },
          { receiptId: "00000000-0000-4000-8000-000000000000", status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt },
        ],
      }),
    );
    expect(missing.code).toBe(Code.NotFound);

    const dup = await failure(
      h.client.completeReceipts({
        receipts: [
          { receiptId: a, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt },
          { receiptId: a, status: ReceiptStatus.FAILED, generationCompletedAt: completedAt },
        ],
      }),
    );
    expect(dup.code).toBe(Code.InvalidArgument);
    expect(dup.field).toBe("receipts[1].receipt_id");

    const badStatus = await failure(
      h.client.completeReceipts({ receipts: [{ receiptId: a, status: ReceiptStatus.RUNNING, generationCompletedAt: completedAt }] }),
    );
    expect(badStatus.code).toBe(Code.InvalidArgument);
    expect(badStatus.field).toBe("receipts[0].status");

    expect(await counts()).toEqual(before);
    for (const id of [a, b]) expect((await h.client.getReceipt({ receiptId: id })).receipt!.status).toBe(ReceiptStatus.RUNNING);
  });
});

describe("completion keeps the receipt on its page", () => {
  it("generation_receipts leaves room for the completion update (fillfactor 45), so it stays on the same page", async () => {
    const { rows: opts } = await h.sql.query(`SELECT reloptions FROM pg_class WHERE oid = 'receipts.generation_receipts'::regclass`);
    expect(opts[0].reloptions).toContain("fillfactor=45");
    const created = await h.client.createReceipts({
      receipts: Array.from({ length: 20 }, () => receiptRequest({ projectId: "p-page" })),
    });
    const ids = created.results.map((r) => r.receipt!.receiptId);
    const pages = async () =>
      (
        await h.sql.query(
          `SELECT (ctid::text::point)[0]::int AS page FROM receipts.generation_receipts WHERE receipt_id = ANY($1::uuid[]) ORDER BY receipt_id`,
          [ids],
        )
      ).rows.map((r) => r.page as number);
    const before = await pages();
    await h.client.completeReceipts({
      receipts: ids.map((receiptId) => ({ receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: completedAt })),
    });
    expect(await pages()).toEqual(before);
  });
});
