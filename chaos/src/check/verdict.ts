/**
 * The checker's judgement, as pure functions of the client's books (the ledger) and what the system holds (observe):
 * every acknowledged receipt stored exactly once and as acknowledged, nothing stored that was never sent, one created
 * and one completed event per receipt on the stream, the staleness projection equal to receipts, no outbox row left,
 * never two open jobs for a segment. Each check counts its failures and keeps a few examples to name them.
 */
import type { AnswerStats } from "../load/resend.js";
import type { Ledger, SentReceipt } from "../load/ledger.js";
import type { MidRelay } from "../faults.js";
import type { GivenUp } from "./advisories.js";
import type { Observed, StoredReceipt, StreamEvent } from "./observe.js";

/** One check's outcome. */
export interface Check {
  /** The report's section. */
  readonly section: string;
  readonly name: string;
  /** The numbers, in words. */
  readonly summary: string;
  /** How many things are wrong (0 = passed). */
  readonly failures: number;
  /** Up to a few of them, named. */
  readonly examples: readonly string[];
}

/** Every check, and whether all passed. */
export interface Verdict {
  readonly checks: readonly Check[];
  readonly ok: boolean;
  /** Names of the failed checks with their counts ("receipts lost: 3"). */
  readonly failed: readonly string[];
}

/** A window of the run (epoch ms), e.g. while a NATS node was down. */
export interface Window {
  readonly label: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** What the verdict is given. */
export interface VerdictInput {
  readonly ledger: Ledger;
  readonly stats: AnswerStats;
  readonly observed: Observed;
  /** Exits of processes nobody asked for, in words. */
  readonly crashes: readonly string[];
  /** Windows to report on separately (receipts acknowledged during them). */
  readonly windows: readonly Window[];
  /** Messages a durable consumer gave up on (JetStream's advisories). */
  readonly givenUp?: readonly GivenUp[];
  /** The replica count every stream must have (default 3). */
  readonly streamReplicas?: number;
  /** Outages, with the outbox rows they caught mid-relay. */
  readonly outages: readonly { readonly label: string; readonly midRelay: MidRelay }[];
}

const EXAMPLES = 5;
const SIMULATOR_KEY_PREFIX = "pipeline-simulator:";

/** Builds a check, keeping the first few examples. */
function check(section: string, name: string, summary: string, problems: readonly string[]): Check {
  return { section, name, summary, failures: problems.length, examples: problems.slice(0, EXAMPLES) };
}

function countBy<T>(items: Iterable<T>, key: (item: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const n = (v: number) => v.toLocaleString("en-US");

function receiptChecks(input: VerdictInput, storedByKey: Map<string, StoredReceipt[]>): Check[] {
  const { ledger, observed, stats } = input;
  const sent = [...ledger.receipts.values()];
  const acked = ledger.acknowledged();
  const jobIds = new Set(observed.jobs.map((j) => j.jobId));

  const lost: string[] = [];
  for (const r of acked) {
    const rows = storedByKey.get(r.key) ?? [];
    if (rows.length === 0) lost.push(`${r.receiptId} (${r.key}) acknowledged, not stored`);
    else if (!rows.some((row) => row.receiptId === r.receiptId)) lost.push(`${r.key} acknowledged as ${r.receiptId}, stored as ${rows.map((x) => x.receiptId).join(", ")}`);
  }
  const doubled = [...storedByKey].filter(([, rows]) => rows.length > 1).map(([key, rows]) => `${key} stored ${rows.length} times`);
  const byJob = groupBy(
    observed.receipts.filter((r) => r.jobId !== null),
    (r) => r.jobId!,
  );
  doubled.push(...[...byJob].filter(([, rows]) => rows.length > 1).map(([job, rows]) => `job ${job} has ${rows.length} receipts`));

  const unknown = observed.receipts
    .filter((r) => !ledger.receipts.has(r.key))
    .filter((r) => !(r.jobId !== null && jobIds.has(r.jobId) && r.key === `${SIMULATOR_KEY_PREFIX}${r.jobId}`))
    .map((r) => `${r.receiptId} (${r.key}) stored, never sent`);

  const wrongCompletion: string[] = [];
  const byId = new Map(observed.receipts.map((r) => [r.receiptId, r]));
  let completionsAcked = 0;
  for (const r of acked) {
    const row = byId.get(r.receiptId!);
    if (!row) continue; // counted as lost
    const c = r.completion;
    if (c?.ackedAtMs !== undefined) {
      completionsAcked += 1;
      if (row.status !== c.status || row.completedAtMs !== c.completedAtMs || (row.outputHash ?? "") !== c.outputHash) {
        wrongCompletion.push(`${row.receiptId}: completion acknowledged as ${c.status} at ${c.completedAtMs}, stored ${row.status} at ${row.completedAtMs}`);
      }
    } else if (!c && row.status !== "RUNNING") {
      wrongCompletion.push(`${row.receiptId}: never completed by the client, stored ${row.status}`);
    }
  }

  const singles = acked.filter((r) => r.via === "single");
  const fromJobs = observed.receipts.filter((r) => r.key.startsWith(SIMULATOR_KEY_PREFIX)).length;
  const section = "receipts";
  return [
    check(
      section,
      "acknowledged receipts stored",
      `${n(acked.length)} acknowledged of ${n(sent.length)} sent (${n(singles.length)} single, ${n(singles.filter((r) => r.retake).length)} of them retakes; ${n(acked.length - singles.length)} in batches); ` +
        `${n(observed.receipts.length - fromJobs)} stored of ours, plus ${n(fromJobs)} recorded by the pipeline simulator for regeneration jobs`,
      lost,
    ),
    check(section, "stored exactly once", `${n(doubled.length)} idempotency keys or jobs with more than one receipt`, doubled),
    check(section, "nothing stored that was never sent", `${n(unknown.length)} stored receipts the client never sent`, unknown),
    check(
      section,
      "completions stored as acknowledged",
      `${n(completionsAcked)} completions acknowledged (${n(acked.filter((r) => r.planned === "none").length)} receipts left running on purpose)`,
      wrongCompletion,
    ),
    check(section, "answers agree with earlier answers", `${n(ledger.deliberateResends)} acknowledged requests resent on purpose; ${n(stats.resends)} resends after an error or timeout`, ledger.conflicts),
    check(section, "every valid request answered", `${n(stats.refusals.length)} refused, ${n(stats.unanswered.length)} never answered`, [...stats.refusals, ...stats.unanswered]),
  ];
}

function eventChecks(input: VerdictInput): Check[] {
  const { observed } = input;
  const events = observed.events;
  const section = "events on PROVENANCE";
  const copies = countBy(events, (e) => e.msgId);
  const duplicateIds = [...copies].filter(([, c]) => c > 1).map(([id, c]) => `event ${id} on the stream ${c} times`);
  const mismatchedIds = events.filter((e) => e.eventId !== undefined && e.eventId !== e.msgId).map((e) => `seq ${e.seq}: Nats-Msg-Id ${e.msgId}, event_id ${e.eventId}`);

  const receiptEvents = events.filter((e) => e.receiptId !== undefined);
  const created = groupBy(
    receiptEvents.filter((e) => e.subject.endsWith(".created")),
    (e) => e.receiptId!,
  );
  const completed = groupBy(
    receiptEvents.filter((e) => e.subject.endsWith(".completed")),
    (e) => e.receiptId!,
  );
  const stored = new Map(observed.receipts.map((r) => [r.receiptId, r]));

  const createdWrong: string[] = [];
  const completedWrong: string[] = [];
  for (const r of observed.receipts) {
    const c = created.get(r.receiptId)?.length ?? 0;
    if (c !== 1) createdWrong.push(`receipt ${r.receiptId}: ${c} created events`);
    const done = completed.get(r.receiptId) ?? [];
    const want = r.status === "RUNNING" ? 0 : 1;
    if (done.length !== want) completedWrong.push(`receipt ${r.receiptId} (${r.status}): ${done.length} completed events`);
    else if (done[0] && done[0].status !== r.status) completedWrong.push(`receipt ${r.receiptId}: completed event says ${done[0].status}, stored ${r.status}`);
  }
  for (const id of new Set([...created.keys(), ...completed.keys()])) {
    if (!stored.has(id)) createdWrong.push(`events for receipt ${id}, which is not stored`);
  }
  const bySubject = countBy(events, (e) => e.subject.split(".").slice(0, 3).join("."));
  const subjects = [...bySubject].sort(([a], [b]) => a.localeCompare(b)).map(([s, c]) => `${s} ${n(c)}`).join(", ");
  return [
    check(section, "event ids unique", `${n(events.length)} messages (${subjects}); ${n(duplicateIds.length)} event ids more than once`, [...duplicateIds, ...mismatchedIds]),
    check(section, "one created event per receipt", `${n(created.size)} receipts with a created event, ${n(observed.receipts.length)} stored`, createdWrong),
    check(
      section,
      "one completed event per completed receipt",
      `${n(completed.size)} receipts with a completed event, ${n(observed.receipts.filter((r) => r.status !== "RUNNING").length)} completed`,
      completedWrong,
    ),
  ];
}

function projectionChecks(input: VerdictInput): Check[] {
  const rows = input.observed.projection;
  const problems: string[] = [];
  for (const r of rows) {
    if (!r.inStaleness) problems.push(`segment ${r.segmentId} missing from the projection`);
    else if (!r.inReceipts) problems.push(`segment ${r.segmentId} in the projection, not in receipts`);
    else if (r.expectedCurrent !== r.projectedCurrent) problems.push(`segment ${r.segmentId}: current receipt ${r.projectedCurrent}, receipts says ${r.expectedCurrent}`);
    else if (r.expectedSupersededBy !== r.projectedSupersededBy) problems.push(`segment ${r.segmentId}: superseded by ${r.projectedSupersededBy}, receipts says ${r.expectedSupersededBy}`);
    else if (r.projectedInputs !== r.expectedInputs || r.matchingInputs !== r.expectedInputs) {
      problems.push(`segment ${r.segmentId}: ${r.projectedInputs} inputs projected (${r.matchingInputs} matching), its current receipt has ${r.expectedInputs}`);
    }
  }
  const inReceipts = rows.filter((r) => r.inReceipts).length;
  const inStaleness = rows.filter((r) => r.inStaleness).length;
  const superseded = rows.filter((r) => r.expectedSupersededBy !== null).length;
  return [
    check(
      "projection (staleness vs receipts)",
      "projection equals receipts",
      `${n(inReceipts)} segments in receipts, ${n(inStaleness)} in the staleness projection (${n(superseded)} superseded); current receipt, supersession and inputs compared for each`,
      problems,
    ),
  ];
}

function outboxCheck(input: VerdictInput): Check {
  const left = Object.entries(input.observed.outbox);
  const problems = left.filter(([, c]) => c > 0).map(([schema, c]) => `${schema}.outbox: ${c} rows not relayed`);
  return check("outbox", "outbox drained", left.map(([schema, c]) => `${schema} ${c}`).join(", ") + " rows left", problems);
}

function jobChecks(input: VerdictInput): Check[] {
  const { observed, ledger } = input;
  const open = observed.jobs.filter((j) => j.status === "submitted" || j.status === "running");
  const openPerSegment = countBy(open, (j) => j.oldSegmentId);
  const twoOpen = [...openPerSegment].filter(([, c]) => c > 1).map(([seg, c]) => `segment ${seg}: ${c} open jobs`);
  const receiptsPerJob = countBy(observed.receipts, (r) => r.jobId ?? undefined);
  const receiptOfJob = new Map(observed.receipts.filter((r) => r.jobId !== null).map((r) => [r.jobId!, r]));
  const unfinished = [
    ...open.map((j) => {
      const r = receiptOfJob.get(j.jobId);
      return `job ${j.jobId} (segment ${j.oldSegmentId}) still ${j.status}; ${r ? `its receipt ${r.receiptId} is ${r.status}` : "no receipt recorded for it"}`;
    }),
    ...observed.jobs.filter((j) => (receiptsPerJob.get(j.jobId) ?? 0) !== 1).map((j) => `job ${j.jobId}: ${receiptsPerJob.get(j.jobId) ?? 0} receipts`),
    ...(observed.generationBacklog > 0 ? [`${observed.generationBacklog} job requests still on the GENERATION queue`] : []),
  ];
  const batchesByKey = groupBy(observed.batches, (b) => b.key);
  const jobIds = new Set(observed.jobs.map((j) => j.jobId));
  const submitProblems: string[] = [];
  const acked = ledger.submits.filter((s) => s.batchId !== undefined);
  for (const s of acked) {
    const stored = batchesByKey.get(s.key) ?? [];
    if (stored.length !== 1 || stored[0]!.batchId !== s.batchId) submitProblems.push(`submit ${s.key} acknowledged as batch ${s.batchId}, stored ${stored.map((b) => b.batchId).join(", ") || "nothing"}`);
    for (const id of s.jobIds ?? []) if (!jobIds.has(id)) submitProblems.push(`job ${id} of ${s.key} acknowledged, not stored`);
  }
  const ackedJobs = acked.reduce((sum, s) => sum + (s.jobIds?.length ?? 0), 0);
  const section = "regeneration jobs";
  return [
    check(section, "never two open jobs per segment", `${n(observed.jobs.length)} jobs in ${n(observed.batches.length)} batches; ${n(new Set(observed.jobs.map((j) => j.oldSegmentId)).size)} segments`, twoOpen),
    check(section, "acknowledged submits stored", `${n(acked.length)} of ${n(ledger.submits.length)} submits acknowledged, with ${n(ackedJobs)} jobs`, submitProblems),
    check(section, "every job done, with one receipt", `${n(open.length)} open after settling`, unfinished),
  ];
}

function versionCheck(input: VerdictInput): Check {
  const { ledger, observed } = input;
  const stored = countBy(observed.versions, (v) => `${v.assetId} ${v.contentHash}`);
  const problems: string[] = [];
  const acked = ledger.publishes.filter((p) => p.ackedAtMs !== undefined);
  for (const p of acked) {
    const c = stored.get(`${p.assetId} ${p.contentHash}`) ?? 0;
    if (c !== 1) problems.push(`${p.assetId} v${p.version}: acknowledged, stored ${c} times`);
  }
  const sent = new Set(ledger.publishes.map((p) => `${p.assetId} ${p.contentHash}`));
  for (const key of stored.keys()) if (!sent.has(key)) problems.push(`version ${key} stored, never published`);
  return check("asset versions", "acknowledged versions stored once", `${n(acked.length)} published and acknowledged, ${n(observed.versions.length)} stored`, problems);
}

function windowCheck(input: VerdictInput, w: Window, storedByKey: Map<string, StoredReceipt[]>, eventsByReceipt: Map<string, StreamEvent[]>): Check {
  const during = input.ledger.acknowledged().filter((r) => r.createdAckAtMs! >= w.fromMs && r.createdAckAtMs! <= w.toMs);
  const completedDuring = input.ledger.acknowledged().filter((r) => r.completion?.ackedAtMs !== undefined && r.completion.ackedAtMs >= w.fromMs && r.completion.ackedAtMs <= w.toMs);
  const problems: string[] = [];
  const eventsOf = (r: SentReceipt, suffix: string) => (eventsByReceipt.get(r.receiptId!) ?? []).filter((e) => e.subject.endsWith(suffix)).length;
  for (const r of during) {
    const rows = storedByKey.get(r.key) ?? [];
    if (rows.length !== 1) problems.push(`${r.receiptId}: stored ${rows.length} times`);
    if (eventsOf(r, ".created") !== 1) problems.push(`${r.receiptId}: ${eventsOf(r, ".created")} created events`);
  }
  for (const r of completedDuring) if (eventsOf(r, ".completed") !== 1) problems.push(`${r.receiptId}: ${eventsOf(r, ".completed")} completed events`);
  const seconds = Math.round((w.toMs - w.fromMs) / 1000);
  return check(
    w.label,
    "nothing lost or doubled in the window",
    `${n(during.length)} receipts and ${n(completedDuring.length)} completions acknowledged in those ${seconds} s; each stored once, with one created and one completed event`,
    problems,
  );
}

function outageCheck(input: VerdictInput, label: string, midRelay: MidRelay): Check {
  const onStream = groupBy(input.observed.events, (e) => e.msgId);
  const problems: string[] = [];
  let publishedBefore = 0;
  for (const id of midRelay.eventIds) {
    const copies = onStream.get(id) ?? [];
    if (copies.length !== 1) problems.push(`event ${id} (mid-relay at the kill) on the stream ${copies.length} times`);
    if (copies.some((e) => e.seq <= midRelay.streamLastSeq)) publishedBefore += 1;
  }
  return check(
    label,
    "rows caught mid-relay published exactly once",
    `killed ${midRelay.caughtPublishing ? "the moment a relay was seen publishing a batch" : "with no relay seen publishing"}: ` +
      `${n(midRelay.eventIds.length)} outbox rows were claimed by a relay and not yet deleted; ${n(publishedBefore)} of them were on the stream already ` +
      "(published, deletion not committed: the rows a restart used to publish again); each is on the stream once",
    problems,
  );
}

function streamCheck(input: VerdictInput, replicas: number): Check {
  const problems = input.observed.streams
    .filter((s) => s.replicas !== replicas || s.current !== replicas)
    .map((s) => `${s.name}: ${s.replicas} replicas, ${s.current} current`);
  return check(
    "streams",
    `every stream at R${replicas}, all replicas current`,
    input.observed.streams.map((s) => `${s.name} R${s.replicas}, ${s.current} current, led by ${s.leader}`).join("; "),
    problems,
  );
}

/** Runs every check. */
export function judge(input: VerdictInput): Verdict {
  const storedByKey = groupBy(input.observed.receipts, (r) => r.key);
  const eventsByReceipt = groupBy(
    input.observed.events.filter((e) => e.receiptId !== undefined),
    (e) => e.receiptId!,
  );
  const checks: Check[] = [
    streamCheck(input, input.streamReplicas ?? 3),
    ...receiptChecks(input, storedByKey),
    ...eventChecks(input),
    ...projectionChecks(input),
    outboxCheck(input),
    ...jobChecks(input),
    versionCheck(input),
    ...input.windows.map((w) => windowCheck(input, w, storedByKey, eventsByReceipt)),
    ...input.outages.map((o) => outageCheck(input, o.label, o.midRelay)),
    check(
      "processes",
      "no consumer gave up on a message",
      `${n(input.givenUp?.length ?? 0)} terminated or past their maximum deliveries`,
      (input.givenUp ?? []).map((g) => `${g.consumer} on ${g.stream} gave up on message ${g.streamSeq} (${g.kind})`),
    ),
    check("processes", "no process died on its own", `${n(input.crashes.length)} unexpected exits`, input.crashes),
  ];
  const failed = checks.filter((c) => c.failures > 0).map((c) => `${c.name}: ${c.failures}`);
  return { checks, ok: failed.length === 0, failed };
}
