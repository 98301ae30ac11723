/**
 * Reproductions and generation durations on real PostgreSQL and NATS: a receipt names the receipt it reproduces (of
 * its own project, never superseding), served and in its created event, immutable; GetGenerationDurations is the
 * median of the latest matching SUCCEEDED receipts of the caller's projects, per key, in request order.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECEIPT_CREATED, ReceiptCreatedSchema, ReceiptService, ReceiptStatus } from "@provenance/shared";
import { DEFAULT_TEST_GRANTS, collectMessages, failureOf } from "@provenance/shared/testing";
import type { QueryRunner } from "typeorm";
import { GenerationDurations1732200000800 } from "../src/persistence/migrations/1732200000800-generation-durations.js";
import { countRows, receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

const A = "durations-a";
const B = "durations-b";
/** The durations' projects: a viewer of C sees C's receipts only. */
const C = "durations-c";
const D = "durations-d";
const START = new Date("2026-11-21T10:00:00Z");

let h: ReceiptsHarness;
let viewerC: Client<typeof ReceiptService>;

/** Records and completes one receipt that took `ms`, with these settings. */
async function generated(ms: number, o: { project?: string; model?: string; workflow?: string; steps?: number; width?: number; status?: ReceiptStatus } = {}) {
  const { receipt } = await h.client.createReceipt(
    receiptRequest({
      projectId: o.project ?? A,
      generationStartedAt: timestampFromDate(START),
      model: { assetId: o.model ?? "model-wan", contentHash: sha(o.model ?? "model-wan"), version: 1 },
      workflow: { assetId: o.workflow ?? "wf-i2v", contentHash: sha(o.workflow ?? "wf-i2v"), version: 1 },
      steps: o.steps ?? 30,
      resolutionWidth: o.width ?? 832,
    }),
  );
  await h.client.completeReceipt({
    receiptId: receipt!.receiptId,
    status: o.status ?? ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date(START.getTime() + ms)),
    outputHash: sha(`out ${receipt!.receiptId}`),
  });
  return receipt!;
}

beforeAll(async () => {
  h = await startReceiptsHarness();
  await h.env.setGrants([...DEFAULT_TEST_GRANTS, { subject: "viewer-c@example.com", project: C, role: "viewer" }]);
  viewerC = h.env.client(ReceiptService, h.running.url, { subject: "viewer-c@example.com" });
});
afterAll(async () => {
  await h?.close();
});

describe("reproduction_of_receipt_id", () => {
  it("is stored, served and in the created event; the reproduction supersedes nothing", async () => {
    const original = await generated(1000);
    const { receipt } = await h.client.createReceipt(
      receiptRequest({ projectId: A, segmentId: "repro-seg-1", reproductionOfReceiptId: original.receiptId.toUpperCase() }),
    );
    expect(receipt!.reproductionOfReceiptId).toBe(original.receiptId);
    expect(receipt!.supersedesSegmentId).toBe("");
    const { receipt: read } = await h.client.getReceipt({ receiptId: receipt!.receiptId });
    expect(read!.reproductionOfReceiptId).toBe(original.receiptId);
    const nats = { js: h.nats.js, jsm: h.nats.jsm, namespace: h.nats.namespace, stream: "PROVENANCE" as const, timeoutMs: 10_000 };
    const events = (await collectMessages({ ...nats, subject: RECEIPT_CREATED, atLeast: 2 })).map((m) => fromBinary(ReceiptCreatedSchema, m.data));
    expect(events.find((e) => e.receipt!.receiptId === receipt!.receiptId)!.receipt!.reproductionOfReceiptId).toBe(original.receiptId);
    const { receipt: plain } = await h.client.getReceipt({ receiptId: original.receiptId });
    expect(plain!.reproductionOfReceiptId).toBe("");
  });

  it("refuses a receipt of another project, an unknown one, a bad id and a superseding reproduction, writing nothing", async () => {
    const other = await generated(1000, { project: B });
    const before = await countRows(h.sql, "generation_receipts");
    const cross = await failureOf(h.client.createReceipt(receiptRequest({ projectId: A, reproductionOfReceiptId: other.receiptId })));
    expect(cross.code).toBe(Code.InvalidArgument);
    expect(cross.rawMessage).toBe(`reproduction_of_receipt_id: receipt "${other.receiptId}" cannot be reproduced from this project`);
    const unknown = "00000000-0000-7000-8000-0000000000ff";
    const missing = await failureOf(h.client.createReceipt(receiptRequest({ projectId: A, reproductionOfReceiptId: unknown })));
    expect(missing.rawMessage).toBe(`reproduction_of_receipt_id: receipt "${unknown}" does not exist`);
    const bad = await failureOf(h.client.createReceipts({ receipts: [receiptRequest(), receiptRequest({ reproductionOfReceiptId: "r-1" })] }));
    expect([bad.code, bad.rawMessage.split(":")[0]]).toEqual([Code.InvalidArgument, "receipts[1].reproduction_of_receipt_id"]);
    const original = await generated(1000);
    const supersedes = await failureOf(
      h.client.createReceipt(receiptRequest({ projectId: A, reproductionOfReceiptId: original.receiptId, supersedesSegmentId: original.segmentId })),
    );
    expect(supersedes.code).toBe(Code.InvalidArgument);
    expect(supersedes.rawMessage).toContain("reproduction_of_receipt_id: a reproduction supersedes no segment");
    expect(await countRows(h.sql, "generation_receipts")).toBe(before + 1);
  });

  it("cannot be changed once stored", async () => {
    const original = await generated(1000);
    const { receipt } = await h.client.createReceipt(receiptRequest({ projectId: A, reproductionOfReceiptId: original.receiptId }));
    const err = await h.sql
      .query(`UPDATE receipts.generation_receipts SET reproduction_of_receipt_id = NULL WHERE receipt_id = $1`, [receipt!.receiptId])
      .then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain("is immutable");
  });

  it("is part of the request: a retry with another one under the same key is ALREADY_EXISTS", async () => {
    const [one, two] = [await generated(1000), await generated(1000)];
    const req = receiptRequest({ projectId: A, reproductionOfReceiptId: one.receiptId });
    expect((await h.client.createReceipt(req)).created).toBe(true);
    expect((await h.client.createReceipt(req)).created).toBe(false);
    const conflict = await failureOf(h.client.createReceipt({ ...req, reproductionOfReceiptId: two.receiptId }));
    expect(conflict.code).toBe(Code.AlreadyExists);
  });
});

describe("GetGenerationDurations", () => {
  it("answers the median and sample size per key, in request order, of SUCCEEDED receipts only", async () => {
    for (const ms of [1000, 3000, 2000]) await generated(ms, { project: C, model: "model-dur", steps: 20 });
    await generated(9000, { project: C, model: "model-dur", steps: 20, status: ReceiptStatus.FAILED });
    for (const ms of [10_000, 20_000]) await generated(ms, { project: C, model: "model-dur", steps: 40, workflow: "wf-other" });
    await generated(500, { project: D, model: "model-dur", steps: 40, width: 1280 });
    const keys = [
      { modelAssetId: "model-dur", workflowAssetId: "wf-i2v", resolutionWidth: 832, resolutionHeight: 480, steps: 20 },
      { modelAssetId: "model-dur" },
      { modelAssetId: "model-none" },
      { modelAssetId: "model-dur", workflowAssetId: "wf-other" },
      { modelAssetId: "model-dur", steps: 40, resolutionWidth: 1280 },
      { modelAssetId: "model-dur", workflowAssetId: "wf-i2v", resolutionWidth: 832, resolutionHeight: 480, steps: 20 },
    ];
    const { durations } = await h.client.getGenerationDurations({ keys });
    expect(durations.map((d) => [d.medianMs, d.sampleSize])).toEqual([
      [2000n, 3],
      [2500n, 6], // 500, 1000, 2000, 3000, 10000, 20000
      [0n, 0],
      [15_000n, 2],
      [500n, 1],
      [2000n, 3],
    ]);
    expect(durations[0]!.key).toMatchObject({ modelAssetId: "model-dur", steps: 20, resolutionWidth: 832 });
  });

  it("takes only the caller's projects", async () => {
    const { durations } = await viewerC.getGenerationDurations({ keys: [{}, { modelAssetId: "model-dur" }, { modelAssetId: "model-dur", resolutionWidth: 1280 }] });
    expect(durations.map((d) => [d.medianMs, d.sampleSize])).toEqual([[3000n, 5], [3000n, 5], [0n, 0]]);
  });

  it("answers the same from the migration's backfill of receipts completed before it", async () => {
    const keys = [{ modelAssetId: "model-dur" }, { modelAssetId: "model-dur", workflowAssetId: "wf-other" }, {}];
    const before = (await h.client.getGenerationDurations({ keys })).durations.map((d) => [d.medianMs, d.sampleSize]);
    // Down and up again on the test database (the owner's connection): the table is rebuilt from the stored receipts.
    const migration = new GenerationDurations1732200000800();
    const runner = { query: (sql: string) => h.sql.query(sql) } as unknown as QueryRunner;
    await migration.down(runner);
    await migration.up(runner);
    expect((await h.client.getGenerationDurations({ keys })).durations.map((d) => [d.medianMs, d.sampleSize])).toEqual(before);
    expect(before[0]).toEqual([2500n, 6]);
  });

  it("refuses no keys, too many keys and bad key fields", async () => {
    expect((await failureOf(h.client.getGenerationDurations({ keys: [] }))).code).toBe(Code.InvalidArgument);
    const many = await failureOf(h.client.getGenerationDurations({ keys: Array.from({ length: 1001 }, () => ({})) }));
    expect(many.code).toBe(Code.InvalidArgument);
    const bad = await failureOf(h.client.getGenerationDurations({ keys: [{}, { modelAssetId: "x\u0000" }] }));
    expect([bad.code, bad.rawMessage.split(":")[0]]).toEqual([Code.InvalidArgument, "keys[1].model_asset_id"]);
  });

  it("takes the latest 1,000 matching receipts", async () => {
    // 1,000 fast ones, then 5 slow ones older than them: the slow ones are outside the sample.
    const slow = Array.from({ length: 5 }, () => generated(50_000, { model: "model-many" }));
    await Promise.all(slow);
    const reqs = Array.from({ length: 1000 }, () =>
      receiptRequest({ projectId: A, generationStartedAt: timestampFromDate(START), model: { assetId: "model-many", contentHash: sha("m"), version: 1 } }),
    );
    const { results } = await h.client.createReceipts({ receipts: reqs });
    await h.client.completeReceipts({
      receipts: results.map((r, i) => ({
        receiptId: r.receipt!.receiptId,
        status: ReceiptStatus.SUCCEEDED,
        generationCompletedAt: timestampFromDate(new Date(START.getTime() + 1000 + (i % 2))),
      })),
    });
    const { durations } = await h.client.getGenerationDurations({ keys: [{ modelAssetId: "model-many" }] });
    expect([durations[0]!.sampleSize, durations[0]!.medianMs]).toEqual([1000, 1001n]);
  });
});
