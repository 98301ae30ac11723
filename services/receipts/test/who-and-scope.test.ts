/**
 * Who did it and what a caller may see: recorded_by / completed_by are the tokens' subjects wherever a receipt is
 * served (and in its events); lists, usage and inputs-hash lookups show only the caller's projects and page within
 * them; a receipt cannot supersede or move a segment of another project, and the refusal names no other project.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECEIPT_COMPLETED, RECEIPT_CREATED, ReceiptCompletedSchema, ReceiptCreatedSchema, ReceiptService, ReceiptStatus } from "@provenance/shared";
import { DEFAULT_TEST_GRANTS, collectMessages, failureOf } from "@provenance/shared/testing";
import { countRows, receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

const A = "scope-a";
const B = "scope-b";
/** The same inputs in every project (so one inputs hash), using one shared model. */
const sameInputs = { promptText: "the same shot everywhere", seed: 7n, model: { assetId: "model-shared", contentHash: sha("model shared"), version: 0 } };

let h: ReceiptsHarness;
let pipelineA: Client<typeof ReceiptService>;
let finisherA: Client<typeof ReceiptService>;
let viewerA: Client<typeof ReceiptService>;
let inputsHash = "";
const created: Record<string, string[]> = { [A]: [], [B]: [] };

beforeAll(async () => {
  h = await startReceiptsHarness();
  await h.env.setGrants([
    ...DEFAULT_TEST_GRANTS,
    { subject: "pipe-a@example.com", project: A, role: "pipeline" },
    { subject: "finisher-a@example.com", project: A, role: "pipeline" },
    { subject: "viewer-a@example.com", project: A, role: "viewer" },
  ]);
  pipelineA = h.env.client(ReceiptService, h.running.url, { subject: "pipe-a@example.com" });
  finisherA = h.env.client(ReceiptService, h.running.url, { subject: "finisher-a@example.com" });
  viewerA = h.env.client(ReceiptService, h.running.url, { subject: "viewer-a@example.com" });
  // Three receipts in A (by A's pipeline) and three in B (by the admin), interleaved so B's sit between A's.
  for (let i = 0; i < 3; i++) {
    for (const project of [A, B]) {
      const client = project === A ? pipelineA : h.client;
      const { receipt } = await client.createReceipt(receiptRequest({ projectId: project, segmentId: `${project}-seg-${i}`, ...sameInputs }));
      created[project]!.push(receipt!.receiptId);
      inputsHash = receipt!.inputsHash;
    }
  }
});
afterAll(async () => {
  await h?.close();
});

describe("who did it", () => {
  it("records the token's subject as recorded_by and completed_by, served everywhere and in the events", async () => {
    const receiptId = created[A]![0]!;
    const { receipt: done } = await finisherA.completeReceipt({
      receiptId,
      status: ReceiptStatus.SUCCEEDED,
      generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:02:00Z")),
      outputHash: sha("out a0"),
    });
    expect(done).toMatchObject({ recordedBy: "pipe-a@example.com", completedBy: "finisher-a@example.com" });
    const { receipt } = await h.client.getReceipt({ receiptId });
    expect(receipt).toMatchObject({ recordedBy: "pipe-a@example.com", completedBy: "finisher-a@example.com" });
    const provenance = await viewerA.getSegmentProvenance({ segmentId: `${A}-seg-0` });
    expect(provenance.currentReceipt).toMatchObject({ recordedBy: "pipe-a@example.com", completedBy: "finisher-a@example.com" });
    const running = await h.client.getReceipt({ receiptId: created[B]![0]! });
    expect(running.receipt).toMatchObject({ recordedBy: "test:admin", completedBy: "" });

    const nats = { js: h.nats.js, jsm: h.nats.jsm, namespace: h.nats.namespace, stream: "PROVENANCE" as const, timeoutMs: 10_000 };
    const createdEvents = (await collectMessages({ ...nats, subject: RECEIPT_CREATED, atLeast: 6 })).map((m) => fromBinary(ReceiptCreatedSchema, m.data));
    expect(createdEvents.find((e) => e.receipt!.receiptId === receiptId)!.receipt!.recordedBy).toBe("pipe-a@example.com");
    const completed = (await collectMessages({ ...nats, subject: RECEIPT_COMPLETED, atLeast: 1 })).map((m) => fromBinary(ReceiptCompletedSchema, m.data));
    expect(completed.find((e) => e.receipt!.receiptId === receiptId)!.receipt).toMatchObject({ recordedBy: "pipe-a@example.com", completedBy: "finisher-a@example.com" });
  });

  it("keeps who completed a receipt when an identical completion is retried by someone else", async () => {
    const receiptId = created[A]![1]!;
    const completion = { receiptId, status: ReceiptStatus.FAILED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:03:00Z")) };
    await finisherA.completeReceipt(completion);
    const { receipt } = await pipelineA.completeReceipt(completion);
    expect(receipt!.completedBy).toBe("finisher-a@example.com");
  });
});

describe("what a caller may see", () => {
  it("FindReceiptsByInputsHash shows only the caller's projects, page by page", async () => {
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await viewerA.findReceiptsByInputsHash({ inputsHash, pageSize: 1, pageToken });
      expect(page.receipts.length).toBeLessThanOrEqual(1);
      seen.push(...page.receipts.map((r) => r.receiptId));
      pageToken = page.nextPageToken;
      pages += 1;
    } while (pageToken !== "" && pages < 10);
    expect(seen.sort()).toEqual([...created[A]!].sort());
    const all = await h.client.findReceiptsByInputsHash({ inputsHash, pageSize: 100 });
    expect(all.receipts.map((r) => r.receiptId).sort()).toEqual([...created[A]!, ...created[B]!].sort());
  });

  it("ListProjects lists only the caller's projects", async () => {
    expect((await viewerA.listProjects({})).projects.map((p) => p.projectId)).toEqual([A]);
    expect((await h.client.listProjects({})).projects.map((p) => p.projectId)).toEqual([A, B]);
  });

  it("GetAssetUsage of a shared model shows only the caller's projects' segments, page by page", async () => {
    const segments: string[] = [];
    let pageToken = "";
    do {
      const page = await viewerA.getAssetUsage({ assetId: "model-shared", pageSize: 2, pageToken });
      expect(page.usages.length).toBeLessThanOrEqual(2);
      segments.push(...page.usages.map((u) => u.segmentId));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(segments.sort()).toEqual([`${A}-seg-0`, `${A}-seg-1`, `${A}-seg-2`]);
    const rest = await fetch(`${h.running.url}/api/assets/model-shared/usage`, { headers: { authorization: `Bearer ${await h.env.token({ subject: "viewer-a@example.com" })}` } });
    expect(((await rest.json()) as { usages: { projectId: string }[] }).usages.map((u) => u.projectId)).toEqual([A, A, A]);
    expect((await h.client.getAssetUsage({ assetId: "model-shared" })).usages).toHaveLength(6);
  });

  it("hides another project's receipt and segment as NOT_FOUND, worded like a missing one", async () => {
    const hidden = await failureOf(viewerA.getReceipt({ receiptId: created[B]![0]! }));
    const missing = await failureOf(viewerA.getReceipt({ receiptId: "00000000-0000-7000-8000-000000000000" }));
    expect([hidden.code, missing.code]).toEqual([Code.NotFound, Code.NotFound]);
    expect(hidden.rawMessage).toBe(`receipt "${created[B]![0]}" not found`);
    expect(missing.rawMessage).toBe(`receipt "00000000-0000-7000-8000-000000000000" not found`);
    const segment = await failureOf(viewerA.getSegmentProvenance({ segmentId: `${B}-seg-0` }));
    expect(segment.code).toBe(Code.NotFound);
    expect(segment.rawMessage).toBe(`segment "${B}-seg-0" not found`);
  });
});

describe("another project's segments", () => {
  it("cannot be superseded, and the refusal names no other project; nothing is written", async () => {
    const before = await countRows(h.sql, "generation_receipts");
    const err = await failureOf(pipelineA.createReceipt(receiptRequest({ projectId: A, segmentId: "a-regen", supersedesSegmentId: `${B}-seg-1` })));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe(`supersedes_segment_id: segment "${B}-seg-1" cannot be superseded from this project`);
    expect(err.rawMessage).not.toContain(B + '"');
    expect(await countRows(h.sql, "generation_receipts")).toBe(before);
  });

  it("cannot be moved into the caller's project, and the refusal does not say whose it is", async () => {
    const err = await failureOf(pipelineA.createReceipt(receiptRequest({ projectId: A, segmentId: `${B}-seg-2` })));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toBe(`project_id: segment "${B}-seg-2" belongs to another project; a segment cannot move to another project`);
  });
});
