/**
 * BatchGetCurrentReceipts: each segment asked with its current receipt (the latest SUCCEEDED one), in the order asked,
 * answering exactly as GetSegmentProvenance does per segment; unknown segments and those of projects the caller may
 * not view are left out alike; 1 to 1,000 valid segment ids.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptService, ReceiptStatus } from "@provenance/shared";
import { DEFAULT_TEST_GRANTS, failureFields } from "@provenance/shared/testing";
import { receiptRequest, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

const A = "current-a";
const B = "current-b";
const at = (minute: number) => timestampFromDate(new Date(Date.UTC(2026, 10, 21, 10, minute)));

let h: ReceiptsHarness;
let viewerA: Client<typeof ReceiptService>;
/** Receipt ids by name. */
const ids: Record<string, string> = {};

async function record(name: string, segmentId: string, projectId: string, status?: ReceiptStatus, extra: Parameters<typeof receiptRequest>[0] = {}) {
  const { receipt } = await h.client.createReceipt(receiptRequest({ segmentId, projectId, ...extra }));
  ids[name] = receipt!.receiptId;
  if (status !== undefined) await h.client.completeReceipt({ receiptId: receipt!.receiptId, status, generationCompletedAt: at(30) });
}

beforeAll(async () => {
  h = await startReceiptsHarness();
  await h.env.setGrants([...DEFAULT_TEST_GRANTS, { subject: "viewer-current-a@example.com", project: A, role: "viewer" }]);
  viewerA = h.env.client(ReceiptService, h.running.url, { subject: "viewer-current-a@example.com" });
  await record("ok1", "c-two-ok", A, ReceiptStatus.SUCCEEDED);
  await record("ok2", "c-two-ok", A, ReceiptStatus.SUCCEEDED, { promptText: "second take" });
  await record("kept", "c-then-failed", A, ReceiptStatus.SUCCEEDED);
  await record("failed", "c-then-failed", A, ReceiptStatus.FAILED, { promptText: "a failed retake" });
  await record("running-after", "c-then-failed", A, undefined, { promptText: "a running retake" });
  await record("running", "c-running", A);
  await record("old", "c-old", A, ReceiptStatus.SUCCEEDED);
  await record("new", "c-new", A, ReceiptStatus.SUCCEEDED, { supersedesSegmentId: "c-old", regenerationJobId: "job-c" });
  await record("b", "c-b", B, ReceiptStatus.SUCCEEDED);
});
afterAll(async () => {
  await h?.close();
});

describe("BatchGetCurrentReceipts", () => {
  it("answers each segment with its latest SUCCEEDED receipt, in the order asked, as GetSegmentProvenance does", async () => {
    const asked = ["c-running", "c-new", "c-then-failed", "c-old", "c-two-ok", "c-b"];
    const { segments } = await h.client.batchGetCurrentReceipts({ segmentIds: asked });
    expect(segments.map((s) => s.segment!.segmentId)).toEqual(asked);
    const current = Object.fromEntries(segments.map((s) => [s.segment!.segmentId, s.currentReceipt?.receiptId]));
    expect(current).toEqual({
      "c-running": undefined,
      "c-new": ids.new,
      "c-then-failed": ids.kept,
      "c-old": ids.old,
      "c-two-ok": ids.ok2,
      "c-b": ids.b,
    });
    const old = segments.find((s) => s.segment!.segmentId === "c-old")!;
    expect(old.segment).toMatchObject({ active: false, supersededBySegmentId: "c-new" });
    for (const s of segments) {
      const one = await h.client.getSegmentProvenance({ segmentId: s.segment!.segmentId });
      expect(s.segment).toEqual(one.segment);
      expect(s.currentReceipt).toEqual(one.currentReceipt);
    }
    // The inputs come along: the receipt is whole, not a summary.
    expect(segments[1]!.currentReceipt!.loras).toHaveLength(1);
  });

  it("leaves out unknown segments and answers a segment asked twice once, where first asked", async () => {
    const { segments } = await h.client.batchGetCurrentReceipts({ segmentIds: ["c-nope", "c-two-ok", "c-running", "c-two-ok", "c-missing"] });
    expect(segments.map((s) => s.segment!.segmentId)).toEqual(["c-two-ok", "c-running"]);
  });

  it("leaves out segments of projects the caller may not view, exactly as unknown ones", async () => {
    const { segments } = await viewerA.batchGetCurrentReceipts({ segmentIds: ["c-b", "c-two-ok", "c-nope"] });
    expect(segments.map((s) => s.segment!.segmentId)).toEqual(["c-two-ok"]);
    const onlyHidden = await viewerA.batchGetCurrentReceipts({ segmentIds: ["c-b"] });
    const onlyUnknown = await viewerA.batchGetCurrentReceipts({ segmentIds: ["c-nope"] });
    expect(onlyHidden.segments).toEqual([]);
    expect(onlyUnknown.segments).toEqual([]);
  });

  it("takes 1 to 1,000 valid segment ids, naming the field otherwise", async () => {
    const empty = await failureFields(h.client.batchGetCurrentReceipts({ segmentIds: [] }));
    expect(empty).toMatchObject({ code: Code.InvalidArgument, field: "segment_ids" });
    const tooMany = await failureFields(h.client.batchGetCurrentReceipts({ segmentIds: Array.from({ length: 1001 }, (_, i) => `s-${i}`) }));
    expect(tooMany).toMatchObject({ code: Code.InvalidArgument, field: "segment_ids" });
    const blank = await failureFields(h.client.batchGetCurrentReceipts({ segmentIds: ["c-two-ok", ""] }));
    expect(blank).toMatchObject({ code: Code.InvalidArgument, field: "segment_ids[1]" });
    const full = await h.client.batchGetCurrentReceipts({ segmentIds: [...Array.from({ length: 999 }, (_, i) => `absent-${i}`), "c-running"] });
    expect(full.segments.map((s) => s.segment!.segmentId)).toEqual(["c-running"]);
  });
});
