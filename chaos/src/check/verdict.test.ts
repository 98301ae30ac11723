import { describe, expect, it } from "vitest";
import { Ledger } from "../load/ledger.js";
import { AnswerStats } from "../load/resend.js";
import type { Observed, ProjectionRow, StoredReceipt, StreamEvent } from "./observe.js";
import { judge, type VerdictInput } from "./verdict.js";

/**
 * A small consistent world: receipt A (single, SUCCEEDED), B (batch, FAILED), C (batch, left running), and D recorded by
 * the pipeline simulator for job J1 superseding A's segment; every event once, the projection equal to receipts.
 */
function world(): { ledger: Ledger; stats: AnswerStats; observed: Observed & { receipts: StoredReceipt[]; events: StreamEvent[]; projection: ProjectionRow[] } } {
  const ledger = new Ledger();
  const base = { projectId: "p", sceneId: "sc", sequenceIndex: 0, retake: false, loraHash: "l1" };
  const a = ledger.send({ ...base, key: "k-a", segmentId: "s-a", via: "single", planned: "SUCCEEDED" });
  const b = ledger.send({ ...base, key: "k-b", segmentId: "s-b", via: "batch", planned: "FAILED" });
  ledger.send({ ...base, key: "k-c", segmentId: "s-c", via: "batch", planned: "none" });
  ledger.created("k-a", "A");
  ledger.created("k-b", "B");
  ledger.created("k-c", "C");
  a.completion = { status: "SUCCEEDED", completedAtMs: 1000, outputHash: "out-a" };
  b.completion = { status: "FAILED", completedAtMs: 2000, outputHash: "" };
  ledger.completed("k-a", "SUCCEEDED");
  ledger.completed("k-b", "FAILED");
  ledger.publishes.push({ assetId: "p-lora", contentHash: "h1", version: 1, ackedAtMs: 1 });
  ledger.submits.push({ key: "regen-0", projectId: "p", segmentIds: ["s-a"], batchId: "B1", jobIds: ["J1"], ackedAtMs: 1 });

  const receipts: StoredReceipt[] = [
    { receiptId: "A", key: "k-a", segmentId: "s-a", status: "SUCCEEDED", completedAtMs: 1000, outputHash: "out-a", jobId: null },
    { receiptId: "B", key: "k-b", segmentId: "s-b", status: "FAILED", completedAtMs: 2000, outputHash: null, jobId: null },
    { receiptId: "C", key: "k-c", segmentId: "s-c", status: "RUNNING", completedAtMs: null, outputHash: null, jobId: null },
    { receiptId: "D", key: "pipeline-simulator:J1", segmentId: "s-d", status: "SUCCEEDED", completedAtMs: 3000, outputHash: "out-d", jobId: "J1" },
  ];
  let seq = 0;
  const event = (kind: "created" | "completed", r: StoredReceipt): StreamEvent => {
    seq += 1;
    const id = `e${seq}`;
    return { seq, subject: `provenance.receipt.${kind}`, msgId: id, eventId: id, receiptId: r.receiptId, status: r.status };
  };
  const events = [
    ...receipts.map((r) => event("created", r)),
    ...receipts.filter((r) => r.status !== "RUNNING").map((r) => event("completed", r)),
    { seq: ++seq, subject: "provenance.asset.version_published", msgId: "asset-1" },
  ];
  const row = (segmentId: string, current: string | null, supersededBy: string | null = null, inputs = 4): ProjectionRow => ({
    segmentId,
    inReceipts: true,
    inStaleness: true,
    expectedCurrent: current,
    projectedCurrent: current,
    expectedSupersededBy: supersededBy,
    projectedSupersededBy: supersededBy,
    expectedInputs: current ? inputs : 0,
    projectedInputs: current ? inputs : 0,
    matchingInputs: current ? inputs : 0,
  });
  const projection = [row("s-a", "A", "s-d"), row("s-b", null), row("s-c", null), row("s-d", "D")];
  const observed = {
    receipts,
    events,
    projection,
    jobs: [{ jobId: "J1", batchId: "B1", oldSegmentId: "s-a", status: "succeeded" }],
    batches: [{ batchId: "B1", key: "regen-0" }],
    versions: [{ assetId: "p-lora", contentHash: "h1" }],
    outbox: { receipts: 0, staleness: 0, regeneration: 0 },
    generationBacklog: 0,
    streams: [
      { name: "PROVENANCE", replicas: 3, current: 3, leader: "nats-1" },
      { name: "GENERATION", replicas: 3, current: 3, leader: "nats-2" },
    ],
  };
  return { ledger, stats: new AnswerStats(), observed };
}

function verdictOf(w: ReturnType<typeof world>, extra: Partial<VerdictInput> = {}) {
  return judge({ ledger: w.ledger, stats: w.stats, observed: w.observed, crashes: [], windows: [], outages: [], ...extra });
}

const failed = (w: ReturnType<typeof world>, extra: Partial<VerdictInput> = {}) =>
  Object.fromEntries(verdictOf(w, extra).checks.filter((c) => c.failures > 0).map((c) => [c.name, c.examples]));

describe("judge", () => {
  it("passes a consistent world", () => {
    const v = verdictOf(world());
    expect(v.failed).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it("names an acknowledged receipt that is not stored", () => {
    const w = world();
    w.observed.receipts.splice(1, 1);
    w.observed.events.splice(0);
    expect(failed(w)["acknowledged receipts stored"]).toEqual(["B (k-b) acknowledged, not stored"]);
  });

  it("names a receipt stored under another id than acknowledged, and one stored twice", () => {
    const w = world();
    w.observed.receipts[0] = { ...w.observed.receipts[0]!, receiptId: "A2" };
    w.observed.receipts.push({ ...w.observed.receipts[1]!, receiptId: "B2" });
    const f = failed(w);
    expect(f["acknowledged receipts stored"]).toEqual(["k-a acknowledged as A, stored as A2"]);
    expect(f["stored exactly once"]).toEqual(["k-b stored 2 times"]);
    const v = verdictOf(w);
    expect(v.ok).toBe(false);
    expect(v.failed).toContain("stored exactly once: 1");
  });

  it("names a stored receipt the client never sent, and a simulator key without its job", () => {
    const w = world();
    w.observed.receipts.push({ receiptId: "X", key: "k-x", segmentId: "s-x", status: "RUNNING", completedAtMs: null, outputHash: null, jobId: null });
    w.observed.receipts.push({ receiptId: "Y", key: "pipeline-simulator:J9", segmentId: "s-y", status: "RUNNING", completedAtMs: null, outputHash: null, jobId: "J9" });
    expect(failed(w)["nothing stored that was never sent"]).toEqual(["X (k-x) stored, never sent", "Y (pipeline-simulator:J9) stored, never sent"]);
  });

  it("names a completion stored otherwise than acknowledged, and a receipt completed that was never completed", () => {
    const w = world();
    w.observed.receipts[0] = { ...w.observed.receipts[0]!, completedAtMs: 999 };
    w.observed.receipts[2] = { ...w.observed.receipts[2]!, status: "FAILED", completedAtMs: 5 };
    expect(failed(w)["completions stored as acknowledged"]).toEqual([
      "A: completion acknowledged as SUCCEEDED at 1000, stored SUCCEEDED at 999",
      "C: never completed by the client, stored FAILED",
    ]);
  });

  it("names two answers to one key that disagree", () => {
    const w = world();
    w.ledger.created("k-a", "A-other");
    expect(failed(w)["answers agree with earlier answers"]).toEqual(["idempotency key k-a answered receipt A, then A-other"]);
  });

  it("names an event id on the stream twice, and a receipt with two created events", () => {
    const w = world();
    const first = w.observed.events[0]!;
    w.observed.events.push({ ...first, seq: 100 });
    const f = failed(w);
    expect(f["event ids unique"]).toEqual(["event e1 on the stream 2 times"]);
    expect(f["one created event per receipt"]).toEqual(["receipt A: 2 created events"]);
  });

  it("names a missing completed event, one for a running receipt, and events of a receipt not stored", () => {
    const w = world();
    w.observed.events.splice(w.observed.events.findIndex((e) => e.subject.endsWith(".completed") && e.receiptId === "B"), 1);
    w.observed.events.push({ seq: 200, subject: "provenance.receipt.completed", msgId: "e200", eventId: "e200", receiptId: "C", status: "SUCCEEDED" });
    w.observed.events.push({ seq: 201, subject: "provenance.receipt.created", msgId: "e201", eventId: "e201", receiptId: "Z", status: "RUNNING" });
    const f = failed(w);
    expect(f["one completed event per completed receipt"]).toEqual(["receipt B (FAILED): 0 completed events", "receipt C (RUNNING): 1 completed events"]);
    expect(f["one created event per receipt"]).toEqual(["events for receipt Z, which is not stored"]);
  });

  it("names projection rows that differ from receipts", () => {
    const w = world();
    w.observed.projection[0] = { ...w.observed.projection[0]!, projectedCurrent: "OLD" };
    w.observed.projection[1] = { ...w.observed.projection[1]!, inStaleness: false };
    w.observed.projection[3] = { ...w.observed.projection[3]!, matchingInputs: 3 };
    expect(failed(w)["projection equals receipts"]).toEqual([
      "segment s-a: current receipt OLD, receipts says A",
      "segment s-b missing from the projection",
      "segment s-d: 4 inputs projected (3 matching), its current receipt has 4",
    ]);
  });

  it("names outbox rows left, two open jobs of one segment, and a job without its receipt", () => {
    const w = world();
    const observed = {
      ...w.observed,
      outbox: { receipts: 2, staleness: 0, regeneration: 0 },
      jobs: [...w.observed.jobs, { jobId: "J2", batchId: "B1", oldSegmentId: "s-b", status: "submitted" }, { jobId: "J3", batchId: "B1", oldSegmentId: "s-b", status: "running" }],
    };
    const f = failed({ ...w, observed });
    expect(f["outbox drained"]).toEqual(["receipts.outbox: 2 rows not relayed"]);
    expect(f["never two open jobs per segment"]).toEqual(["segment s-b: 2 open jobs"]);
    expect(f["every job done, with one receipt"]).toEqual([
      "job J2 (segment s-b) still submitted; no receipt recorded for it",
      "job J3 (segment s-b) still running; no receipt recorded for it",
      "job J2: 0 receipts",
      "job J3: 0 receipts",
    ]);
  });

  it("names an acknowledged asset version that is not stored", () => {
    const w = world();
    w.ledger.publishes.push({ assetId: "p-lora", contentHash: "h2", version: 2, ackedAtMs: 2 });
    expect(failed(w)["acknowledged versions stored once"]).toEqual(["p-lora v2: acknowledged, stored 0 times"]);
  });

  it("names a row caught mid-relay by an outage that is on the stream twice", () => {
    const w = world();
    w.observed.events.push({ ...w.observed.events[0]!, seq: 300 });
    const f = failed(w, { outages: [{ label: "outage", midRelay: { eventIds: ["e1", "e2"], streamLastSeq: 4, caughtPublishing: true } }] });
    expect(f["rows caught mid-relay published exactly once"]).toEqual(["event e1 (mid-relay at the kill) on the stream 2 times"]);
  });

  it("checks the receipts acknowledged while a NATS node was down", () => {
    const w = world();
    const window = { label: "node down", fromMs: 0, toMs: Date.now() + 1_000 };
    expect(verdictOf(w, { windows: [window] }).ok).toBe(true);
    w.observed.events.splice(0, 1);
    expect(failed(w, { windows: [window] })["nothing lost or doubled in the window"]).toEqual(["A: 0 created events"]);
  });

  it("names a stream that is not at three replicas, or has one behind", () => {
    const w = world();
    const observed = { ...w.observed, streams: [{ name: "PROVENANCE", replicas: 1, current: 1, leader: "nats-1" }, { name: "GENERATION", replicas: 3, current: 2, leader: "nats-2" }] };
    expect(failed({ ...w, observed })["every stream at R3, all replicas current"]).toEqual(["PROVENANCE: 1 replicas, 1 current", "GENERATION: 3 replicas, 2 current"]);
  });

  it("names a message a consumer gave up on", () => {
    const w = world();
    const givenUp = [{ kind: "terminated" as const, stream: "GENERATION", consumer: "pipeline-simulator", streamSeq: 17 }];
    expect(failed(w, { givenUp })["no consumer gave up on a message"]).toEqual(["pipeline-simulator on GENERATION gave up on message 17 (terminated)"]);
  });

  it("fails on a refused request, an unanswered one and a crash", () => {
    const w = world();
    w.stats.refusals.push("CreateReceipt k: PermissionDenied no");
    w.stats.unanswered.push("CompleteReceipt k: no answer after 40 attempts");
    const f = failed(w, { crashes: ["receipts-1 exited on its own at 0:10 (code 1)"] });
    expect(f["every valid request answered"]).toHaveLength(2);
    expect(f["no process died on its own"]).toEqual(["receipts-1 exited on its own at 0:10 (code 1)"]);
  });
});
