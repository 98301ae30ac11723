/**
 * What `provenance verify` checks, against a running receipts service (ARCHITECTURE.md "The receipt log",
 * docs/spec/receipt-log.md "What a verifier checks"): the latest checkpoint is signed by the trusted key and consistent
 * with a checkpoint seen before; every receipt asked for, as GetReceipt serves it, rebuilds its inputs hash and its
 * leaves byte for byte, and each leaf's inclusion path leads to a checkpoint consistent with that one. Nothing the
 * service says is taken on its word: it serves data, the shared pure core verifies it.
 */
import type { Receipt } from "@provenance/shared";
import {
  hashFromHex,
  hashToHex,
  openCheckpoint,
  parseVerifierKey,
  sameHash,
  verifyConsistency,
  verifyReceiptInLog,
  expectedLeafEvents,
  type Checkpoint,
  type NoteVerifier,
  type ReceiptLogFinding,
  type ServedLogEntry,
} from "@provenance/shared/receipt-log";
import type { CommandContext } from "../command.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import type { CheckpointFile } from "./checkpoint-file.js";

/** Which receipts to verify: every one of a project, of every project the caller may view, or these. */
export type VerifyTarget = { readonly project: string } | { readonly allProjects: true } | { readonly receiptIds: readonly string[] };

/** Where the trusted verifier key came from. */
export type KeySource = "--key" | "checkpoint file" | "service";

/** How to verify. */
export interface VerifyOptions {
  readonly target: VerifyTarget;
  /** A checkpoint saved earlier: the served log must be consistent with it. */
  readonly pinned?: CheckpointFile & { readonly path: string };
  /** The trusted verifier key given on the command line. */
  readonly key?: string;
  /** How long to wait for a receipt's leaves to reach the log (they do within a second of its commit). */
  readonly logWaitMs?: number;
}

/** The outcome of one receipt. */
export interface ReceiptOutcome {
  readonly receiptId: string;
  readonly segmentId: string;
  readonly projectId: string;
  readonly holds: boolean;
  /** Why it does not hold (empty when it holds). */
  readonly reasons: readonly string[];
  readonly findings: readonly ReceiptLogFinding[];
  /** The size of the checkpoint its proofs were checked against. */
  readonly checkpointSize: number;
  readonly leafIndexes: Readonly<Record<string, number>>;
}

/** Everything `provenance verify` found. */
export interface VerifyReport {
  readonly origin: string;
  /** The largest checkpoint the receipts were verified against: signed, and consistent with the latest one served first. */
  readonly checkpoint?: { readonly size: number; readonly rootHash: string; readonly note: string };
  readonly verifierKey: string;
  readonly keySource: KeySource;
  /** The checkpoint file given, and whether the served log is consistent with it. */
  readonly pinned?: { readonly path: string; readonly size: number; readonly consistent: boolean };
  /** Problems of the log itself (signature, consistency, a rolled-back log); empty when none. */
  readonly problems: readonly string[];
  readonly receipts: readonly ReceiptOutcome[];
  /** True when the log and every receipt hold. */
  readonly holds: boolean;
}

/** A failed check that makes the whole run fail with exit code 9, named in one line. */
export class VerificationFailed extends CliError {
  constructor(message: string) {
    super(ExitCode.verificationFailed, message);
  }
}

const CONCURRENCY = 8;
const LOG_WAIT_MS = 3_000;
const LOG_POLL_MS = 250;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Runs `f` over `items` with at most `limit` at a time, keeping the order of `items` in the results. */
async function mapPool<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function parseKey(text: string, source: KeySource): NoteVerifier {
  try {
    return parseVerifierKey(text);
  } catch (err) {
    const what = source === "--key" ? "--key" : source === "checkpoint file" ? "the checkpoint file's verifierKey" : "the service's verifier_key";
    const message = (err as Error).message;
    if (source === "service") throw new VerificationFailed(`${what} cannot be used: ${message}`);
    throw usageError(`${what} is not a verifier key (<name>+<8 hex id>+<base64 key>): ${message}`);
  }
}

function keyLabel(v: NoteVerifier): string {
  return `${v.name}+${v.keyId.toString(16).padStart(8, "0")}`;
}

/** A served checkpoint note opened with the trusted key, or the reason it cannot be. */
function open(note: string, verifier: NoteVerifier, origin?: string): Checkpoint | string {
  try {
    return openCheckpoint(note, verifier, origin === undefined ? {} : { origin }).checkpoint;
  } catch (err) {
    return (err as Error).message.replace(/^checkpoint: /, "");
  }
}

/** The proof entries of a receipt at `size` (0 = latest) with the note they lead to, or undefined when the log has none. */
async function fetchProof(ctx: CommandContext, receiptId: string, size: number): Promise<{ note: string; entries: ServedLogEntry[] } | undefined> {
  try {
    const res = await ctx.clients.receipts.call((c, o) => c.getReceiptProof({ receiptId, treeSize: BigInt(size) }, o));
    return { note: res.checkpoint, entries: res.entries };
  } catch (err) {
    if (err instanceof CliError && err.exitCode === ExitCode.notFound) return undefined;
    throw err;
  }
}

/** Every receipt id of a project: each segment (superseded ones too) through ListSegments, its history through GetSegmentProvenance. */
async function projectReceiptIds(ctx: CommandContext, projectId: string): Promise<string[]> {
  const segmentIds: string[] = [];
  let pageToken = "";
  do {
    const res = await ctx.clients.receipts.call((c, o) => c.listSegments({ projectId, includeSuperseded: true, pageToken }, o));
    for (const s of res.segments) if (s.segment) segmentIds.push(s.segment.segmentId);
    pageToken = res.nextPageToken;
  } while (pageToken !== "");
  const histories = await mapPool(segmentIds, CONCURRENCY, (segmentId) =>
    ctx.clients.receipts.call((c, o) => c.getSegmentProvenance({ segmentId }, o)).then((r) => r.history.map((h) => h.receiptId)),
  );
  return [...new Set(histories.flat())];
}

/** Every project the caller may view (ListProjects, page by page). */
async function viewableProjects(ctx: CommandContext): Promise<string[]> {
  const projects: string[] = [];
  let pageToken = "";
  do {
    const res = await ctx.clients.receipts.call((c, o) => c.listProjects({ pageToken }, o));
    projects.push(...res.projects.map((p) => p.projectId));
    pageToken = res.nextPageToken;
  } while (pageToken !== "");
  return projects;
}

/** The ids of the receipts `target` names. */
async function targetReceiptIds(ctx: CommandContext, target: VerifyTarget): Promise<string[]> {
  if ("receiptIds" in target) return [...new Set(target.receiptIds)];
  const projects = "project" in target ? [target.project] : await viewableProjects(ctx);
  const ids: string[] = [];
  for (const project of projects) ids.push(...(await projectReceiptIds(ctx, project)));
  return [...new Set(ids)];
}

/** The log as verified so far: the trusted key, the reference checkpoint, and the consistency of every other one seen. */
class VerifiedLog {
  private readonly consistency = new Map<string, Promise<string | undefined>>();
  /** The largest checkpoint verified so far (signed, consistent with the reference) and its note. */
  largest: { checkpoint: Checkpoint; note: string };

  constructor(
    private readonly ctx: CommandContext,
    readonly verifier: NoteVerifier,
    readonly reference: Checkpoint,
    referenceNote: string,
  ) {
    this.largest = { checkpoint: reference, note: referenceNote };
  }

  /** Notes a checkpoint found consistent with the reference. */
  verified(checkpoint: Checkpoint, note: string): void {
    if (checkpoint.size > this.largest.checkpoint.size) this.largest = { checkpoint, note };
  }

  /** Undefined when `a` and `b` are views of one append-only log (the smaller a prefix of the larger), else why not. */
  consistent(a: Checkpoint, b: Checkpoint): Promise<string | undefined> {
    const [first, second] = a.size <= b.size ? [a, b] : [b, a];
    const key = `${first.size}:${hashToHex(first.rootHash)}:${second.size}:${hashToHex(second.rootHash)}`;
    let result = this.consistency.get(key);
    if (result === undefined) {
      result = this.check(first, second);
      this.consistency.set(key, result);
    }
    return result;
  }

  private async check(first: Checkpoint, second: Checkpoint): Promise<string | undefined> {
    if (first.size === second.size) {
      return sameHash(first.rootHash, second.rootHash) ? undefined : `two checkpoints of size ${first.size} have different roots (a split view of the log)`;
    }
    let path: Uint8Array[];
    try {
      const res = await this.ctx.clients.receipts.call((c, o) =>
        c.getConsistencyProof({ firstSize: BigInt(first.size), secondSize: BigInt(second.size) }, o),
      );
      path = res.path.map((p, j) => hashFromHex(`path[${j}]`, p));
    } catch (err) {
      if (err instanceof CliError && err.exitCode !== ExitCode.notFound && err.exitCode !== ExitCode.invalidArgument) throw err;
      return `no consistency proof from size ${first.size} to ${second.size}: ${(err as Error).message}`;
    }
    const ok = verifyConsistency({ firstSize: first.size, secondSize: second.size, firstRoot: first.rootHash, secondRoot: second.rootHash, path });
    return ok ? undefined : `the checkpoint of size ${first.size} is not consistent with the one of size ${second.size} (the consistency proof does not verify)`;
  }
}

async function verifyReceipt(ctx: CommandContext, log: VerifiedLog, receiptId: string, waitMs: number): Promise<ReceiptOutcome> {
  const { receipt } = await ctx.clients.receipts.call((c, o) => c.getReceipt({ receiptId }, o));
  if (!receipt) throw new CliError(ExitCode.failure, `GetReceipt ${receiptId} answered without a receipt`);
  const reasons: string[] = [];
  const outcome = (served: Receipt, extra: Partial<ReceiptOutcome>): ReceiptOutcome => ({
    receiptId,
    segmentId: served.segmentId,
    projectId: served.projectId,
    holds: reasons.length === 0,
    reasons,
    findings: [],
    checkpointSize: log.reference.size,
    leafIndexes: {},
    ...extra,
  });
  const expected = expectedLeafEvents(receipt);
  const complete = (entries: readonly ServedLogEntry[]) => expected.every((e) => entries.some((x) => x.event === e));

  // tree_size 0 asks for the latest: an empty log has nothing to prove yet, so wait for the receipt's leaves below.
  let proof = log.reference.size > 0 ? await fetchProof(ctx, receiptId, log.reference.size) : undefined;
  let checkpoint: Checkpoint = log.reference;
  if (proof !== undefined) {
    const served = open(proof.note, log.verifier, log.reference.origin);
    if (typeof served === "string") reasons.push(`the checkpoint GetReceiptProof served is not valid: ${served}`);
    else if (served.size !== log.reference.size || !sameHash(served.rootHash, log.reference.rootHash)) {
      reasons.push(`GetReceiptProof for size ${log.reference.size} served a different checkpoint (size ${served.size})`);
    }
  }
  if (reasons.length === 0 && (proof === undefined || !complete(proof.entries))) {
    // Recorded after the reference checkpoint, or still being integrated: ask for the latest until it is there.
    const deadline = Date.now() + waitMs;
    for (;;) {
      const latest = await fetchProof(ctx, receiptId, 0);
      if (latest !== undefined && (complete(latest.entries) || Date.now() >= deadline)) {
        const served = open(latest.note, log.verifier, log.reference.origin);
        if (typeof served === "string") {
          reasons.push(`the checkpoint GetReceiptProof served is not valid: ${served}`);
        } else {
          const problem = await log.consistent(log.reference, served);
          if (problem !== undefined) reasons.push(problem);
          else log.verified(served, latest.note);
          proof = latest;
          checkpoint = served;
        }
        break;
      }
      if (Date.now() >= deadline || ctx.signal.aborted) break;
      await sleep(LOG_POLL_MS, ctx.signal);
    }
  }
  if (reasons.length > 0) return outcome(receipt, {});
  const result = verifyReceiptInLog({ receipt, entries: proof?.entries ?? [], checkpoint });
  reasons.push(...result.findings.map((f) => f.reason));
  return outcome(receipt, { findings: result.findings, checkpointSize: checkpoint.size, leafIndexes: result.leafIndexes, holds: result.holds && reasons.length === 0 });
}

/** Runs the checks; a log that cannot be verified at all ends the run with exit 9 (VerificationFailed) unless a report can say so. */
export async function verifyReceiptLog(ctx: CommandContext, options: VerifyOptions): Promise<VerifyReport> {
  const served = await ctx.clients.receipts.call((c, o) => c.getCheckpoint({}, o));
  const keyText = options.key ?? (options.pinned?.verifierKey || undefined) ?? served.verifierKey;
  const keySource: KeySource = options.key !== undefined ? "--key" : options.pinned?.verifierKey ? "checkpoint file" : "service";
  if (options.pinned && !options.key && !options.pinned.verifierKey) {
    throw usageError(`--checkpoint ${options.pinned.path} holds no verifier key: add --key VKEY`);
  }
  const verifier = parseKey(keyText, keySource);
  const base = { verifierKey: verifier.verifierKey, keySource };

  const reference = open(served.checkpoint, verifier);
  if (typeof reference === "string") {
    const problem = `the latest checkpoint the service serves is not valid for key ${keyLabel(verifier)}: ${reference}`;
    return { ...base, origin: "", problems: [problem], receipts: [], holds: false };
  }
  const checkpoint = { size: reference.size, rootHash: hashToHex(reference.rootHash), note: served.checkpoint };
  const log = new VerifiedLog(ctx, verifier, reference, served.checkpoint);
  const problems: string[] = [];
  let pinned: VerifyReport["pinned"];
  if (options.pinned) {
    const saved = open(options.pinned.note, verifier);
    if (typeof saved === "string") {
      problems.push(`the checkpoint in ${options.pinned.path} is not valid for key ${keyLabel(verifier)}: ${saved}`);
    } else {
      let problem: string | undefined;
      if (saved.origin !== reference.origin) problem = `it is of log "${saved.origin}", the service serves "${reference.origin}"`;
      else if (saved.size > reference.size) {
        problem = `the service serves a log of ${reference.size} leaves, fewer than the ${saved.size} of that checkpoint: the log was rolled back`;
      } else problem = await log.consistent(saved, reference);
      pinned = { path: options.pinned.path, size: saved.size, consistent: problem === undefined };
      if (problem !== undefined) problems.push(`the served log is not consistent with the checkpoint in ${options.pinned.path}: ${problem}`);
    }
  }
  if (problems.length > 0) return { ...base, origin: reference.origin, checkpoint, pinned, problems, receipts: [], holds: false };

  const ids = await targetReceiptIds(ctx, options.target);
  const receipts = await mapPool(ids, CONCURRENCY, (id) => verifyReceipt(ctx, log, id, options.logWaitMs ?? LOG_WAIT_MS));
  // The summary names (and --save-checkpoint keeps) the largest checkpoint verified: receipts recorded during the run
  // were proven against a later one than the reference, found consistent with it.
  const largest = log.largest;
  const final = { size: largest.checkpoint.size, rootHash: hashToHex(largest.checkpoint.rootHash), note: largest.note };
  return { ...base, origin: reference.origin, checkpoint: final, pinned, problems, receipts, holds: receipts.every((r) => r.holds) };
}

/** The human lines of a report: one per receipt that does not hold, then the summary. */
export function formatReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const p of report.problems) lines.push(`log: ${p}`);
  for (const r of report.receipts) {
    if (r.holds) continue;
    lines.push(`receipt ${r.receiptId} (segment ${r.segmentId || "—"}, project ${r.projectId || "—"}) does not hold: ${r.reasons.join("; ")}`);
  }
  const verifier = parseVerifierKey(report.verifierKey);
  const key = `key ${keyLabel(verifier)}${report.keySource === "service" ? " as the service serves it (pin it with --checkpoint or --key)" : ` from ${report.keySource}`}`;
  if (report.checkpoint) {
    const held = report.receipts.filter((r) => r.holds).length;
    const pin = report.pinned?.consistent ? `, consistent with ${report.pinned.path} (size ${report.pinned.size})` : "";
    const verdict = report.problems.length > 0 ? "the log does not hold" : `${held} of ${report.receipts.length} receipts hold`;
    lines.push(`${verdict} — receipt log ${report.origin} at checkpoint ${report.checkpoint.size}${pin}, ${key}`);
  } else {
    lines.push(`the log does not hold — ${key}`);
  }
  return `${lines.join("\n")}\n`;
}
