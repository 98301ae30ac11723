/**
 * What the load generator sent and what the services acknowledged — the client's side of the books, which the
 * checker holds against the database and the stream. An acknowledgement is an answer that says the write is done:
 * a CreateReceipt(s) result with a receipt id, a CompleteReceipt(s) result, a PublishVersion or SubmitRegeneration
 * response. Two answers to one idempotency key that disagree are recorded as conflicts.
 */

/** How a receipt was sent. */
export type SentVia = "single" | "batch";

/** The completion a receipt is meant to get: none leaves it running. */
export type PlannedCompletion = "SUCCEEDED" | "FAILED" | "none";

/** One receipt the load generator sent. */
export interface SentReceipt {
  readonly key: string;
  readonly segmentId: string;
  readonly projectId: string;
  readonly sceneId: string;
  readonly sequenceIndex: number;
  readonly via: SentVia;
  /** A new receipt of a segment that already had one. */
  readonly retake: boolean;
  /** The LoRA version hash it names. */
  readonly loraHash: string;
  readonly planned: PlannedCompletion;
  readonly sentAtMs: number;
  /** From the first answer to its CreateReceipt. */
  receiptId?: string;
  createdAckAtMs?: number;
  /** The completion as sent (the identical request is what every resend carries). */
  completion?: { status: "SUCCEEDED" | "FAILED"; completedAtMs: number; outputHash: string; ackedAtMs?: number };
}

/** One asset version the load generator published. */
export interface SentPublish {
  readonly assetId: string;
  readonly contentHash: string;
  readonly version: number;
  ackedAtMs?: number;
}

/** One regeneration submit. */
export interface SentSubmit {
  readonly key: string;
  readonly projectId: string;
  readonly segmentIds: readonly string[];
  batchId?: string;
  jobIds?: readonly string[];
  ackedAtMs?: number;
}

/** The client's books for the whole run. */
export class Ledger {
  readonly receipts = new Map<string, SentReceipt>();
  readonly publishes: SentPublish[] = [];
  readonly submits: SentSubmit[] = [];
  /** Answers that disagree with an earlier answer to the same request, in words. */
  readonly conflicts: string[] = [];
  /** Identical requests sent again after an acknowledgement (a lost reply, as a pipeline sees it). */
  deliberateResends = 0;

  /** Records a receipt about to be sent for the first time. */
  send(receipt: Omit<SentReceipt, "sentAtMs">): SentReceipt {
    const sent: SentReceipt = { ...receipt, sentAtMs: Date.now() };
    this.receipts.set(sent.key, sent);
    return sent;
  }

  /** Records an answer to a CreateReceipt(s) entry; a different receipt id than before is a conflict. */
  created(key: string, receiptId: string): void {
    const sent = this.receipts.get(key);
    if (!sent) {
      this.conflicts.push(`an answer for idempotency key ${key}, which was never sent`);
      return;
    }
    if (sent.receiptId === undefined) {
      sent.receiptId = receiptId;
      sent.createdAckAtMs = Date.now();
    } else if (sent.receiptId !== receiptId) {
      this.conflicts.push(`idempotency key ${key} answered receipt ${sent.receiptId}, then ${receiptId}`);
    }
  }

  /** Records an answer to a CompleteReceipt(s) entry; a status other than the one sent is a conflict. */
  completed(key: string, status: string): void {
    const sent = this.receipts.get(key);
    const completion = sent?.completion;
    if (!sent || !completion) {
      this.conflicts.push(`a completion answer for ${key}, which was never completed`);
      return;
    }
    if (status !== completion.status) this.conflicts.push(`completion of ${sent.receiptId} (${key}) sent ${completion.status}, answered ${status}`);
    completion.ackedAtMs ??= Date.now();
  }

  /** Acknowledged receipts (a receipt id came back). */
  acknowledged(): SentReceipt[] {
    return [...this.receipts.values()].filter((r) => r.receiptId !== undefined);
  }
}
