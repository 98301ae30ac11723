/**
 * Group commit of single CreateReceipt / CompleteReceipt calls, against real PostgreSQL and NATS: concurrent calls
 * share transactions, and each caller gets exactly what it would have got alone — its own answer or its own error.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptCompletedSchema, ReceiptCreatedSchema, ReceiptService, ReceiptStatus, RECEIPT_COMPLETED, RECEIPT_CREATED } from "@provenance/shared";
import { collectMessages, DEFAULT_TEST_GRANTS } from "@provenance/shared/testing";
import { MAX_GROUP_COMMIT_SIZE } from "../src/app/group-commit.js";
import { readGroupCommitMaxSize } from "../src/config.js";
import { countRows, enqueuedEvents, receiptRequest, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

let h: ReceiptsHarness;

beforeAll(async () => {
  h = await startReceiptsHarness();
});
afterAll(async () => {
  await h?.close();
});

const completedAt = timestampFromDate(new Date("2026-11-21T10:05:00Z"));

/** Groups written so far and the calls they held, from the service's own histogram. */
async function groupStats(kind: "create" | "complete"): Promise<{ groups: number; calls: number }> {
  const text = await (await fetch(`${h.running.url}/metrics`)).text();
  const read = (suffix: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`provenance_receipts_group_commit_size_${suffix}{`) && l.includes(`kind="${kind}"`));
    return line ? Number(line.split(" ").pop()) : 0;
  };
  return { groups: read("count"), calls: read("sum") };
}

/** Each settled call's outcome: its answer, or its error's code. */
async function settle<T>(calls: Promise<T>[]): Promise<({ ok: T } | { code: Code; message: string })[]> {
  return (await Promise.allSettled(calls)).map((s) =>
    s.status === "fulfilled" ? { ok: s.value } : { code: ConnectError.from(s.reason).code, message: ConnectError.from(s.reason).rawMessage },
  );
}

/** The stream the receipt events are on. */
function stream() {
  return { js: h.nats.js, jsm: h.nats.jsm, namespace: h.nats.namespace, stream: "PROVENANCE" as const };
}

/** Rows of each table, and events ever enqueued. */
async function counts(): Promise<number[]> {
  const rows = await Promise.all((["segments", "generation_receipts", "receipt_inputs"] as const).map((t) => countRows(h.sql, t)));
  return [...rows, await enqueuedEvents(h)];
}

describe("RECEIPT_GROUP_COMMIT_MAX_SIZE", () => {
  it("defaults to the batch limit and refuses what is not 1 to 1,000, naming the variable", () => {
    expect(readGroupCommitMaxSize({})).toBe(MAX_GROUP_COMMIT_SIZE);
    expect(MAX_GROUP_COMMIT_SIZE).toBe(1000);
    expect(readGroupCommitMaxSize({ RECEIPT_GROUP_COMMIT_MAX_SIZE: " 1 " })).toBe(1);
    for (const raw of ["0", "1001", "-1", "2.5", "many"]) {
      expect(() => readGroupCommitMaxSize({ RECEIPT_GROUP_COMMIT_MAX_SIZE: raw })).toThrow(/RECEIPT_GROUP_COMMIT_MAX_SIZE/);
    }
  });
});

describe("concurrent CreateReceipt calls", () => {
  it("share transactions, each answered as alone: errors reach only their caller, nothing doubled", async () => {
    // What is there before: a segment of project g-a, and a key used once.
    await h.client.createReceipt(receiptRequest({ projectId: "g-a", segmentId: "g-placed" }));
    const used = receiptRequest({ projectId: "g-a" });
    const usedAnswer = await h.client.createReceipt(used);
    const before = await counts();
    const groupsBefore = await groupStats("create");

    const good = Array.from({ length: 60 }, (_, i) => receiptRequest({ projectId: "g-a", segmentId: `g-new-${i}` }));
    const twin = receiptRequest({ projectId: "g-a", segmentId: "g-twin" });
    const rival = receiptRequest({ projectId: "g-a", segmentId: "g-rival" });
    const calls: { req: ReturnType<typeof receiptRequest>; expect: "created" | "replay-of-used" | "twin" | "rival" | Code }[] = [
      ...good.map((req) => ({ req, expect: "created" as const })),
      // The segment is in g-a: from g-b it would move.
      { req: receiptRequest({ projectId: "g-b", segmentId: "g-placed" }), expect: Code.FailedPrecondition },
      // A key used before, same content: the stored receipt; other content: ALREADY_EXISTS (and its new segment not stored).
      { req: used, expect: "replay-of-used" },
      { req: receiptRequest({ projectId: "g-a", segmentId: "g-never", idempotencyKey: used.idempotencyKey }), expect: Code.AlreadyExists },
      // A superseded segment that does not exist.
      { req: receiptRequest({ projectId: "g-a", segmentId: "g-sup", supersedesSegmentId: "g-missing" }), expect: Code.InvalidArgument },
      // The same key twice in flight, same content: one receipt; other content: one of them ALREADY_EXISTS.
      { req: twin, expect: "twin" },
      { req: twin, expect: "twin" },
      { req: rival, expect: "rival" },
      { req: receiptRequest({ projectId: "g-a", segmentId: "g-rival-2", idempotencyKey: rival.idempotencyKey }), expect: "rival" },
    ];
    // Interleaved, so refusals sit among the good calls.
    const order = calls.map((c, i) => ({ c, k: (i * 37) % calls.length })).sort((a, b) => a.k - b.k).map((x) => x.c);
    const results = await settle(order.map((c) => h.client.createReceipt(c.req)));

    const twins: string[] = [];
    const rivals: string[] = [];
    order.forEach((c, i) => {
      const r = results[i]!;
      if (c.expect === "created") {
        expect(r).toMatchObject({ ok: { created: true, receipt: { segmentId: c.req.segmentId, idempotencyKey: c.req.idempotencyKey } } });
      } else if (c.expect === "replay-of-used") {
        expect("ok" in r && r.ok.created).toBe(false);
        expect("ok" in r && r.ok.receipt).toEqual(usedAnswer.receipt);
      } else if (c.expect === "twin") {
        expect("ok" in r).toBe(true);
        if ("ok" in r) twins.push(`${r.ok.created}:${r.ok.receipt!.receiptId}`);
      } else if (c.expect === "rival") {
        rivals.push("ok" in r ? `created:${r.ok.created}` : `code:${r.code}`);
      } else {
        expect(r).toMatchObject({ code: c.expect });
      }
    });
    const [firstTwin, secondTwin] = twins.map((t) => t.split(":"));
    expect([firstTwin![0], secondTwin![0]].sort()).toEqual(["false", "true"]);
    expect(firstTwin![1]).toBe(secondTwin![1]);
    expect(rivals.sort()).toEqual([`code:${Code.AlreadyExists}`, "created:true"]);

    // Each answer is what is stored, and what a later retry alone gets.
    for (const [i, c] of order.entries()) {
      const r = results[i]!;
      if (c.expect !== "created" || !("ok" in r)) continue;
      expect((await h.client.getReceipt({ receiptId: r.ok.receipt!.receiptId })).receipt).toEqual(r.ok.receipt);
      expect(await h.client.createReceipt(c.req)).toEqual({ ...r.ok, created: false });
    }

    // New: 60 good + twin + one rival: segments, receipts, one input row set each, one created event each.
    const after = await counts();
    const inputsPerReceipt = 5;
    expect(after).toEqual([before[0]! + 62, before[1]! + 62, before[2]! + 62 * inputsPerReceipt, before[3]! + 62]);
    expect((await h.sql.query("SELECT count(*)::int AS n FROM receipts.segments WHERE segment_id IN ('g-never', 'g-sup')")).rows[0].n).toBe(0);

    // The calls really shared transactions.
    const groups = await groupStats("create");
    const grouped = { groups: groups.groups - groupsBefore.groups, calls: groups.calls - groupsBefore.calls };
    expect(grouped.calls).toBeGreaterThanOrEqual(calls.length);
    expect(grouped.groups).toBeLessThan(grouped.calls);
  });

  it("keeps each caller's subject and request id on its receipt and event", async () => {
    await h.env.setGrants([
      ...DEFAULT_TEST_GRANTS,
      { subject: "pipe-1@example.com", project: "g-who", role: "pipeline" },
      { subject: "pipe-2@example.com", project: "g-who", role: "pipeline" },
    ]);
    const clients = ["pipe-1@example.com", "pipe-2@example.com"].map((subject) => ({ subject, client: h.env.client(ReceiptService, h.running.url, { subject }) }));
    const calls = Array.from({ length: 30 }, (_, i) => ({ i, ...clients[i % 2]!, req: receiptRequest({ projectId: "g-who", segmentId: `g-who-${i}` }) }));
    const answers = await Promise.all(
      calls.map((c) => c.client.createReceipt(c.req, { headers: { "x-request-id": `group-req-${c.i}` } })),
    );
    answers.forEach((a, i) => expect(a.receipt!.recordedBy).toBe(calls[i]!.subject));

    const ids = new Map(answers.map((a, i) => [a.receipt!.receiptId, i]));
    await enqueuedEvents(h);
    const events = (await collectMessages({ ...stream(), subject: RECEIPT_CREATED, atLeast: 30, timeoutMs: 10_000 }))
      .map((m) => fromBinary(ReceiptCreatedSchema, m.data))
      .filter((e) => ids.has(e.receipt!.receiptId));
    expect(events).toHaveLength(30);
    for (const e of events) {
      const i = ids.get(e.receipt!.receiptId)!;
      expect(e.requestId).toBe(`group-req-${i}`);
      expect(e.receipt!.recordedBy).toBe(calls[i]!.subject);
    }
  });
});

describe("concurrent CompleteReceipt calls", () => {
  it("share transactions, each answered as alone: errors reach only their caller, one event per completion", async () => {
    const created = await Promise.all(Array.from({ length: 40 }, (_, i) => h.client.createReceipt(receiptRequest({ projectId: "g-c", segmentId: `g-c-${i}` }))));
    const ids = created.map((c) => c.receipt!.receiptId);
    const eventsBefore = await enqueuedEvents(h);
    const groupsBefore = await groupStats("complete");

    const done = (receiptId: string, status = ReceiptStatus.SUCCEEDED) => ({ receiptId, status, generationCompletedAt: completedAt });
    const calls: { req: ReturnType<typeof done>; expect: "ok" | "same" | "clash" | Code }[] = [
      ...ids.slice(0, 36).map((id) => ({ req: done(id), expect: "ok" as const })),
      // The same completion twice in flight: both get the completed receipt, one event.
      { req: done(ids[36]!), expect: "same" },
      { req: done(ids[36]!), expect: "same" },
      // Two different completions of one receipt: one wins, the other FAILED_PRECONDITION.
      { req: done(ids[37]!, ReceiptStatus.SUCCEEDED), expect: "clash" },
      { req: done(ids[37]!, ReceiptStatus.FAILED), expect: "clash" },
      // Unknown receipts: NOT_FOUND, for those calls only.
      { req: done("01900000-0000-7000-8000-000000000001"), expect: Code.NotFound },
      { req: done("not-a-uuid"), expect: Code.NotFound },
      // Completed before its start: INVALID_ARGUMENT.
      { req: { ...done(ids[38]!), generationCompletedAt: timestampFromDate(new Date("2026-11-21T09:00:00Z")) }, expect: Code.InvalidArgument },
    ];
    const order = calls.map((c, i) => ({ c, k: (i * 17) % calls.length })).sort((a, b) => a.k - b.k).map((x) => x.c);
    const results = await settle(order.map((c) => h.client.completeReceipt(c.req)));

    const same: string[] = [];
    const clash: string[] = [];
    order.forEach((c, i) => {
      const r = results[i]!;
      if (c.expect === "ok") expect(r).toMatchObject({ ok: { receipt: { receiptId: c.req.receiptId, status: ReceiptStatus.SUCCEEDED } } });
      else if (c.expect === "same") same.push("ok" in r ? String(r.ok.receipt!.generationDurationMs) : `code:${r.code}`);
      else if (c.expect === "clash") clash.push("ok" in r ? "ok" : `code:${r.code}`);
      else expect(r).toMatchObject({ code: c.expect });
    });
    expect(same).toHaveLength(2);
    expect(same[0]).toBe(same[1]);
    expect(same[0]).not.toMatch(/^code/);
    expect(clash.sort()).toEqual([`code:${Code.FailedPrecondition}`, "ok"]);

    // What is stored is what the callers were told; the receipt nobody completed is still running.
    for (const [i, c] of order.entries()) {
      const r = results[i]!;
      if ("ok" in r) expect((await h.client.getReceipt({ receiptId: c.req.receiptId })).receipt).toEqual(r.ok.receipt);
    }
    expect((await h.client.getReceipt({ receiptId: ids[38]! })).receipt!.status).toBe(ReceiptStatus.RUNNING);

    // One completed event per receipt completed: 36 + the twin + the clash's winner.
    expect(await enqueuedEvents(h)).toBe(eventsBefore + 38);
    const completedIds = (await collectMessages({ ...stream(), subject: RECEIPT_COMPLETED, atLeast: 38, timeoutMs: 10_000 }))
      .map((m) => fromBinary(ReceiptCompletedSchema, m.data).receipt!.receiptId)
      .filter((id) => ids.includes(id));
    expect(completedIds.sort()).toEqual([...ids.slice(0, 38)].sort());

    const groups = await groupStats("complete");
    expect(groups.calls - groupsBefore.calls).toBeGreaterThanOrEqual(calls.length - 1);
    expect(groups.groups - groupsBefore.groups).toBeLessThan(groups.calls - groupsBefore.calls);
  });
});
