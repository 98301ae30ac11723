/**
 * How the load generator behaves like a pipeline: a request that times out or fails for a reason that may pass
 * (a replica down, the database restarting) is sent again, identical — same idempotency key, same content — to the
 * next replica, with a growing pause, until it is answered. Answers that refuse a valid request are not retried: they
 * are recorded as refusals, which fail the run. Every answer is counted by RPC and code for the report.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { sleep } from "../supervision/ports.js";

/** Codes after which the identical request is sent again. */
const RETRYABLE = new Set<Code>([Code.Unavailable, Code.DeadlineExceeded, Code.Unknown, Code.Internal, Code.Aborted, Code.Canceled, Code.ResourceExhausted]);

const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 2_000;

/** The answers the load generator got. */
export class AnswerStats {
  /** Per RPC, per answer ("OK" or a Connect code name): how many. */
  readonly byRpc = new Map<string, Map<string, number>>();
  /** Identical requests sent again after an error or a timeout. */
  resends = 0;
  /** Valid requests refused (a code that is not worth retrying), in words. */
  readonly refusals: string[] = [];
  /** Requests still unanswered when the run gave up on them, in words. */
  readonly unanswered: string[] = [];

  /** Counts one answer. */
  count(rpc: string, answer: string): void {
    const codes = this.byRpc.get(rpc) ?? new Map<string, number>();
    codes.set(answer, (codes.get(answer) ?? 0) + 1);
    this.byRpc.set(rpc, codes);
  }
}

/** Options of one {@link sendUntilAnswered}. */
export interface SendOptions<T> {
  /** The RPC's name, for the counts. */
  rpc: string;
  /** What is being sent, for refusals (`CreateReceipt chaos:1:s:17`). */
  what: string;
  /** How many replicas to spread attempts over. */
  replicas: number;
  /** The first replica to try. */
  firstReplica: number;
  /** When to stop trying (ms since the epoch). */
  giveUpAtMs: () => number;
  /**
   * An error that means "already done" when it answers a resend (RegisterAsset's ALREADY_EXISTS after a lost reply):
   * return the value to use, or undefined when it is a real refusal.
   */
  doneOnResend?: (err: ConnectError) => T | undefined;
}

function codeName(code: Code): string {
  return Code[code] ?? String(code);
}

/**
 * Calls `call(replica, attempt)` until it answers, sending the identical request again after retryable errors.
 * Resolves with the answer, or undefined when the request was refused or given up on (both recorded in `stats`).
 */
export async function sendUntilAnswered<T>(stats: AnswerStats, opts: SendOptions<T>, call: (replica: number) => Promise<T>): Promise<T | undefined> {
  let pause = FIRST_PAUSE_MS;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) stats.resends += 1;
    const replica = (opts.firstReplica + attempt) % opts.replicas;
    try {
      const answer = await call(replica);
      stats.count(opts.rpc, "OK");
      return answer;
    } catch (err) {
      const e = ConnectError.from(err);
      stats.count(opts.rpc, codeName(e.code));
      if (attempt > 0 && opts.doneOnResend) {
        const done = opts.doneOnResend(e);
        if (done !== undefined) return done;
      }
      if (!RETRYABLE.has(e.code)) {
        stats.refusals.push(`${opts.what}: ${codeName(e.code)} ${e.rawMessage}`.slice(0, 300));
        return undefined;
      }
    }
    if (Date.now() + pause > opts.giveUpAtMs()) {
      stats.unanswered.push(`${opts.what}: no answer after ${attempt + 1} attempts`);
      return undefined;
    }
    await sleep(pause * (0.5 + Math.random()));
    pause = Math.min(MAX_PAUSE_MS, pause * 2);
  }
}
