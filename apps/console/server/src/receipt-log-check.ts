/**
 * `GET /verify/receipts/<id>`: whether a receipt as the receipts service serves it is the one in the receipt log,
 * verified here with the shared pure core, not taken from the service's word: its inputs hash and leaves are rebuilt
 * from the served receipt, its inclusion proofs checked against a checkpoint signed by the trusted key
 * (`CONSOLE_RECEIPT_LOG_KEY`, else the first key the service served, kept for the life of this process), and every
 * checkpoint seen is checked to extend the previous one (a rollback or a fork of the log is a mismatch). The calls go
 * to the service with the signed-in user's token, like the proxy's.
 */
import type { JsonValue } from "@bufbuild/protobuf";
import type { Checkpoint, NoteVerifier, ServedLogEntry } from "@provenance/shared/receipt-log";

/** What the badge shows. */
export interface LogVerdict {
  /** `verified`: every check held; `mismatch`: one did not (see reasons); `unchecked`: it could not be checked. */
  readonly state: "verified" | "mismatch" | "unchecked";
  readonly receiptId: string;
  /** The size of the checkpoint the receipt's leaves were proven against. */
  readonly checkpointSize?: number;
  readonly origin?: string;
  /** `<name>+<key id>` of the key the checkpoint verified with, and where that key came from. */
  readonly key?: string;
  readonly keySource?: "configured" | "first seen";
  readonly leafIndexes?: Readonly<Record<string, number>>;
  readonly reasons: readonly string[];
}

type Core = typeof import("@provenance/shared/receipt-log");

/** A Connect error answer of the service. */
class ServiceAnswer extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const WAIT_FOR_LEAVES_MS = 2_000;
const POLL_MS = 250;

/** Verifies receipts for the console; one per console server, so the pinned key and checkpoint outlive a request. */
export class ReceiptLogChecker {
  private core: Promise<Core> | undefined;
  private verifier: NoteVerifier | undefined;
  private latest: Checkpoint | undefined;

  constructor(
    private readonly receiptsUrl: string,
    private readonly configuredKey?: string,
  ) {}

  private async call(method: string, body: Record<string, unknown>, token: string): Promise<Record<string, JsonValue>> {
    const res = await fetch(`${this.receiptsUrl.replace(/\/+$/, "")}/provenance.v1.ReceiptService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, JsonValue>;
    if (!res.ok) throw new ServiceAnswer(String(json.code ?? res.status), `${method}: ${String(json.message ?? res.statusText)}`);
    return json;
  }

  private keyOf(core: Core, served: string): NoteVerifier {
    if (this.verifier === undefined) this.verifier = core.parseVerifierKey(this.configuredKey ?? served);
    return this.verifier;
  }

  /**
   * Undefined when `next` and the latest checkpoint seen are views of one append-only log (the smaller a prefix of the
   * larger: a consistency proof verifies), else why not; the larger becomes the latest. A smaller one is checked too
   * (requests overlap), and a log rolled back cannot prove its old size.
   */
  private async extendsLatest(core: Core, next: Checkpoint, token: string): Promise<string | undefined> {
    const seen = this.latest;
    if (seen === undefined) {
      this.latest = next;
      return undefined;
    }
    if (next.origin !== seen.origin) return `the log's origin changed from "${seen.origin}" to "${next.origin}"`;
    if (next.size === seen.size) {
      return core.sameHash(next.rootHash, seen.rootHash) ? undefined : `two checkpoints of size ${next.size} have different roots: a fork of the log`;
    }
    const [first, second] = next.size < seen.size ? [next, seen] : [seen, next];
    let path: Uint8Array[];
    try {
      const proof = await this.call("GetConsistencyProof", { firstSize: String(first.size), secondSize: String(second.size) }, token);
      path = (Array.isArray(proof.path) ? proof.path : []).map((p, j) => core.hashFromHex(`path[${j}]`, String(p)));
    } catch (err) {
      if (!(err instanceof ServiceAnswer) || err.code === "unavailable" || err.code === "unauthenticated") throw err;
      return `the log cannot prove that its checkpoint of size ${first.size} is a prefix of the one of size ${second.size} (${err.message}): rolled back or forked`;
    }
    const ok = core.verifyConsistency({ firstSize: first.size, secondSize: second.size, firstRoot: first.rootHash, secondRoot: second.rootHash, path });
    if (!ok) return `the checkpoints of size ${first.size} and ${second.size} are not of one append-only log (the consistency proof does not verify)`;
    if (this.latest === undefined || second.size > this.latest.size) this.latest = second;
    return undefined;
  }

  private async proofOf(receiptId: string, size: number, token: string): Promise<{ note: string; entries: ServedLogEntry[] } | undefined> {
    try {
      const res = await this.call("GetReceiptProof", { receiptId, treeSize: String(size) }, token);
      const entries = (Array.isArray(res.entries) ? res.entries : []).map((e) => {
        const entry = (e ?? {}) as Record<string, JsonValue>;
        return {
          event: String(entry.event ?? ""),
          leafIndex: BigInt(String(entry.leafIndex ?? "0")),
          leaf: String(entry.leaf ?? ""),
          inclusionPath: (Array.isArray(entry.inclusionPath) ? entry.inclusionPath : []).map(String),
        };
      });
      return { note: String(res.checkpoint ?? ""), entries };
    } catch (err) {
      if (err instanceof ServiceAnswer && err.code === "not_found") return undefined;
      throw err;
    }
  }

  /** The verdict on one receipt, as the signed-in user with `token` may see it. Never throws. */
  async check(receiptId: string, token: string): Promise<LogVerdict> {
    try {
      return await this.verify(receiptId, token);
    } catch (err) {
      const message = err instanceof Error ? err.message.split("\n")[0]! : String(err);
      return { state: "unchecked", receiptId, reasons: [message] };
    }
  }

  private async verify(receiptId: string, token: string): Promise<LogVerdict> {
    // Loaded on first use: the console's other routes need none of it.
    this.core ??= import("@provenance/shared/receipt-log");
    const core = await this.core;
    const receipt = core.receiptFromServedJson((await this.call("GetReceipt", { receiptId }, token)).receipt ?? {});
    const served = await this.call("GetCheckpoint", {}, token);
    const verifier = this.keyOf(core, String(served.verifierKey ?? ""));
    const keyInfo = {
      key: `${verifier.name}+${verifier.keyId.toString(16).padStart(8, "0")}`,
      keySource: this.configuredKey === undefined ? ("first seen" as const) : ("configured" as const),
    };
    const mismatch = (reason: string, extra: Partial<LogVerdict> = {}): LogVerdict => ({ state: "mismatch", receiptId, ...keyInfo, ...extra, reasons: [reason] });
    const open = (note: string) => {
      try {
        return core.openCheckpoint(note, verifier).checkpoint;
      } catch (err) {
        return (err as Error).message;
      }
    };
    let checkpoint = open(String(served.checkpoint ?? ""));
    if (typeof checkpoint === "string") return mismatch(`the log's checkpoint does not verify with key ${keyInfo.key}: ${checkpoint}`);
    const broken = await this.extendsLatest(core, checkpoint, token);
    if (broken !== undefined) return mismatch(broken, { origin: checkpoint.origin });

    const expected = core.expectedLeafEvents(receipt);
    const complete = (p: { entries: ServedLogEntry[] } | undefined) => p !== undefined && expected.every((e) => p.entries.some((x) => x.event === e));
    // tree_size 0 asks for the latest: an empty log has nothing to prove yet, so wait for the receipt's leaves below.
    let proof = checkpoint.size > 0 ? await this.proofOf(receiptId, checkpoint.size, token) : undefined;
    const deadline = Date.now() + WAIT_FOR_LEAVES_MS;
    // Leaves reach the log within a second of their commit: a receipt that new waits for the next checkpoint.
    while (!complete(proof) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const latest = await this.proofOf(receiptId, 0, token);
      if (latest === undefined) continue;
      const next = open(latest.note);
      if (typeof next === "string") return mismatch(`the checkpoint of a proof does not verify with key ${keyInfo.key}: ${next}`);
      const problem = await this.extendsLatest(core, next, token);
      if (problem !== undefined) return mismatch(problem, { origin: next.origin });
      proof = latest;
      checkpoint = next;
    }
    if (proof !== undefined) {
      const proven = open(proof.note);
      if (typeof proven === "string" || proven.size !== checkpoint.size || !core.sameHash(proven.rootHash, checkpoint.rootHash)) {
        return mismatch(`the proof was made against another checkpoint than size ${checkpoint.size}`);
      }
    }
    const result = core.verifyReceiptInLog({ receipt, entries: proof?.entries ?? [], checkpoint });
    return {
      state: result.holds ? "verified" : "mismatch",
      receiptId,
      checkpointSize: checkpoint.size,
      origin: checkpoint.origin,
      ...keyInfo,
      leafIndexes: result.leafIndexes,
      reasons: result.findings.map((f) => f.reason),
    };
  }
}
