/**
 * What every fuzz case is held to, in one place: the request gets an answer; the answer is a well-formed success or
 * error of its protocol; a client-caused failure is never INTERNAL or UNKNOWN; a refused token is UNAUTHENTICATED;
 * and a rejected request writes nothing — the row counts of every table (outboxes included) and the messages on
 * both streams are the same before and after it. The memory of the process the services run in stays bounded.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { countChanges, type FuzzSystem, type Snapshot } from "./fuzz-system.js";
import { buildRequest, codeName, readAnswer, readTimesFor, type Answer, type Framing, type Payload, type Protocol } from "./protocols.js";
import { NoAnswer, send, type RawRequest } from "./wire.js";

/** The seed every property runs with, printed with any failure: `FUZZ_SEED=<n>` reruns exactly what failed. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 15_2026);

/** Codes a client-caused failure must never be: they say the server failed, not the request. */
export const SERVER_FAULT_CODES: ReadonlySet<Code> = new Set([Code.Internal, Code.Unknown, Code.DataLoss, Code.Unavailable]);

/** Codes a request may be refused with before its token is looked at: reading the body comes first on the RPC paths. */
const BEFORE_AUTH_CODES: ReadonlySet<Code> = new Set([Code.InvalidArgument, Code.ResourceExhausted, Code.Unimplemented]);

/** The heap and RSS bounds the process running the three services must stay within after every run. */
export const MEMORY_BOUNDS = { heapUsedBytes: 768 * 1024 * 1024, rssBytes: 1536 * 1024 * 1024 };

/** One generated request. */
export interface FuzzCase {
  method: DescMethod;
  path: string;
  url: string;
  writes: boolean;
  protocol: Protocol;
  payload: Payload;
  framing: Framing;
  /** Whether the token presented must be refused. */
  refusedToken?: string;
  /** Whether the server cannot tell the protocol (garbage content type, wrong HTTP method). */
  refusedBeforeRpc?: boolean;
}

function payloadSummary(p: Payload): string {
  if ("json" in p) return p.json.length > 300 ? `json(${p.json.length} chars): ${p.json.slice(0, 300)}…` : `json: ${p.json}`;
  if ("binary" in p) return `binary(${p.binary.length}): ${Buffer.from(p.binary.subarray(0, 120)).toString("hex")}${p.binary.length > 120 ? "…" : ""}`;
  return `a streamed ${p.kind} body`;
}

/** A short description of a case, for fast-check's counterexample report (never a whole huge value). */
export function describeCase(c: FuzzCase): string {
  const framing = JSON.stringify({ ...c.framing, authorization: c.framing.authorization === undefined ? undefined : `${c.framing.authorization.slice(0, 20)}…` });
  return `${c.path} over ${c.protocol} ${framing}${c.refusedToken ? ` with a refused token (${c.refusedToken})` : ""}: ${payloadSummary(c.payload)}`;
}

/** Gives a case a short description in fast-check's reports. */
export function withDescription(c: FuzzCase): FuzzCase {
  return Object.assign(c, { [fc.toStringMethod]: () => describeCase(c) });
}

/** What a case came to. */
export interface Outcome {
  answer: Answer;
  request: RawRequest;
}

/** What is known of a request besides its answer, to judge the answer. */
export interface Judged {
  /** For reports. */
  what: string;
  /** Whether the request may change state when it succeeds (an RPC without NO_SIDE_EFFECTS, a POST route). */
  writes: boolean;
  /** Set when the token presented must be refused: its kind. */
  refusedToken?: string;
}

/** Tracks whether a successful write may still be settling, so the next snapshot waits for it. */
export class Judge {
  private dirty = true;
  /** Answers seen, by code name: the report at the end of a run. */
  readonly codes = new Map<string, number>();

  constructor(private readonly sys: FuzzSystem) {}

  /** Time spent waiting for the system to settle and in snapshots, in ms (the report). */
  readonly spent = { settleMs: 0, settles: 0, snapshotMs: 0, exchangeMs: 0 };

  /** The counts after the last answer that wrote nothing: the state the next request starts from. */
  private last: Snapshot | undefined;

  private async before(): Promise<Snapshot> {
    if (!this.dirty && this.last) return this.last;
    const started = performance.now();
    const s = await this.sys.settle();
    this.dirty = false;
    this.spent.settles++;
    this.spent.settleMs += performance.now() - started;
    return s;
  }

  /**
   * Runs `exchange` (send one request, read its answer) and checks every property against what it answered; throws
   * (failing the property) on the first one that does not hold.
   */
  async run(j: Judged, exchange: () => Promise<Answer>): Promise<Answer> {
    const before = await this.before();
    let answer: Answer;
    const sent = performance.now();
    try {
      answer = await exchange();
      this.spent.exchangeMs += performance.now() - sent;
    } catch (err) {
      this.dirty = true;
      if (err instanceof NoAnswer) throw new Error(`no answer: ${err.message}`);
      throw err;
    }
    this.codes.set(codeName(answer.code), (this.codes.get(codeName(answer.code)) ?? 0) + 1);
    if (answer.malformed) {
      this.dirty = true;
      throw new Error(`malformed answer (HTTP ${answer.httpStatus}): ${answer.malformed}`);
    }
    if (answer.code !== undefined && SERVER_FAULT_CODES.has(answer.code)) {
      this.dirty = true;
      throw new Error(`answered ${codeName(answer.code)} for a client's request: ${answer.message}`);
    }
    if (j.refusedToken !== undefined) {
      if (answer.code === undefined) throw new Error(`a refused token (${j.refusedToken}) got a success`);
      // A path that names no route (a REST id of ".." normalizes away) is 404 whoever asks: it reveals nothing.
      const unrouted = answer.code === Code.NotFound && answer.message?.startsWith("no route for ") === true;
      if (answer.code !== Code.Unauthenticated && !BEFORE_AUTH_CODES.has(answer.code) && !unrouted) {
        throw new Error(`a refused token (${j.refusedToken}) got ${codeName(answer.code)}, not unauthenticated: ${answer.message}`);
      }
    }
    if (answer.code === undefined && j.writes) {
      this.dirty = true;
      return answer;
    }
    // A refused request, and any answer of an RPC that declares no side effects, leave every count as it was.
    const snapped = performance.now();
    const after = await this.sys.snapshot();
    this.spent.snapshotMs += performance.now() - snapped;
    const changed = countChanges(before, after);
    if (changed.length > 0) {
      this.dirty = true;
      const what = answer.code === undefined ? "a request of an RPC without side effects" : `a request refused with ${codeName(answer.code)} (${answer.message})`;
      throw new Error(`${what} changed ${changed.join(", ")}`);
    }
    this.last = after;
    return answer;
  }

  /** Sends an RPC case and judges its answer (see {@link run}). */
  async check(c: FuzzCase): Promise<Outcome> {
    const request = buildRequest(c.path, c.method, c.protocol, c.payload, c.framing);
    const answer = await this.run({ what: c.path, writes: c.writes, refusedToken: c.refusedToken }, async () =>
      readAnswer(c.method, c.protocol, await send(c.url, request, readTimesFor(c.method)), c.refusedBeforeRpc),
    );
    return { answer, request };
  }
}

/** Throws if the services no longer answer health checks or their process has outgrown {@link MEMORY_BOUNDS}. */
export async function assertAliveAndBounded(sys: FuzzSystem): Promise<void> {
  await sys.assertHealthy();
  const m = process.memoryUsage();
  if (m.heapUsed > MEMORY_BOUNDS.heapUsedBytes || m.rss > MEMORY_BOUNDS.rssBytes) {
    throw new Error(`memory past its bound: heap ${Math.round(m.heapUsed / 2 ** 20)} MiB, rss ${Math.round(m.rss / 2 ** 20)} MiB`);
  }
}
