/**
 * CompleteReceipt / CompleteReceipts: sets receipts' completion fields once, in one transaction (all or none);
 * a SUCCEEDED receipt that supersedes a segment marks it superseded in the same transaction, and one
 * provenance.receipt.completed per receipt completed now is enqueued in it too. Retrying a completion that committed
 * (its reply lost) returns the stored receipt and writes nothing.
 */
import type { DataSource, EntityManager } from "typeorm";
import { currentRequestId, notFound, useKeyedPlans } from "@provenance/shared";
import { batchEntry, requireDistinct, singleCall, type EntryName } from "../domain/batch-entries.js";
import { applyCompletion, type Completion, type CompletionOutcome } from "../domain/completion.js";
import type { ReceiptRecord } from "../domain/receipt-record.js";
import { isReceiptId } from "../domain/receipt-id.js";
import { supersededBy, supersessionsOf } from "../domain/supersession.js";
import { writtenReceiptsOf } from "./written-receipts.js";
import { groupCommitQueue, type GroupWriter, type Outcome } from "./group-commit.js";
import { enqueueReceiptsCompleted, enqueueReceiptsCompletedOfCalls } from "../events/receipt-events.js";
import { lockReceipts, setCompletions } from "../persistence/receipt-repository.js";
import { markSuperseded } from "../persistence/segment-repository.js";

/**
 * CompleteReceipt: completes one receipt (see {@link completeReceipts}); errors name its fields as they are.
 * Concurrent calls share transactions (group commit, `app/group-commit.ts`): each gets what it would have got alone.
 */
export async function completeReceipt(ds: DataSource, completion: Completion, requestId?: string): Promise<ReceiptRecord> {
  if (!isReceiptId(completion.receiptId)) throw notFound("receipt", completion.receiptId);
  const call: CompleteCall = { completion, requestId: requestId || currentRequestId() || "" };
  return groupCommitQueue(ds, "complete", () => completeWriter(ds)).submit(call);
}

/** A queued CompleteReceipt, with the request id its event carries. */
interface CompleteCall {
  completion: Completion;
  requestId: string;
}

function completeWriter(ds: DataSource): GroupWriter<CompleteCall, ReceiptRecord> {
  return {
    keyOf: (c) => c.completion.receiptId,
    writeGroup: async (calls) => {
      const outcomes = await ds.transaction((m) => completeGroup(m, calls));
      writtenReceiptsOf(ds).remember(outcomes.flatMap((o) => (o.ok ? [o.value] : [])));
      return outcomes;
    },
    writeAlone: async (c) => (await complete(ds, [c.completion], singleCall, c.requestId || undefined))[0]!,
  };
}

/**
 * A group of CompleteReceipt calls (distinct receipts) in one transaction, each judged as a single call before
 * anything is written: an unknown receipt (NOT_FOUND) or a refused completion fails that call only.
 */
async function completeGroup(m: EntityManager, calls: readonly CompleteCall[]): Promise<Outcome<ReceiptRecord>[]> {
  await useKeyedPlans(m);
  const byId = new Map((await lockReceipts(m, calls.map((c) => c.completion.receiptId))).map((r) => [r.receiptId, r]));
  const outcomes = calls.map(({ completion }): Outcome<CompletionOutcome> => {
    try {
      const stored = byId.get(completion.receiptId);
      if (!stored) throw notFound("receipt", completion.receiptId);
      return { ok: true, value: applyCompletion(stored, completion, "") };
    } catch (error) {
      return { ok: false, error };
    }
  });
  const changed = calls.flatMap((call, i) => {
    const o = outcomes[i]!;
    return o.ok && o.value.changed ? [{ call, receipt: o.value.receipt }] : [];
  });
  await setCompletions(m, changed.map((c) => c.receipt));
  const supersessions = supersessionsOf(changed.map((c) => c.receipt));
  const marked = await markSuperseded(m, supersessions);
  // One outbox write for the group; each event carries its own call's request id.
  await enqueueReceiptsCompletedOfCalls(
    m,
    changed.map(({ call, receipt }) => ({ event: { receipt, supersededSegmentId: supersededBy(receipt, supersessions, marked) }, requestId: call.requestId })),
  );
  return outcomes.map((o) => (o.ok ? { ok: true, value: o.value.receipt } : o));
}

/**
 * CompleteReceipts: completes every receipt of a batch or none, answering with the receipts in request order. Each
 * receipt id at most once in a batch (INVALID_ARGUMENT). An entry that repeats a committed completion exactly is
 * answered with the stored receipt; one entry that cannot complete (unknown: NOT_FOUND; completed otherwise:
 * FAILED_PRECONDITION; before its start: INVALID_ARGUMENT) leaves every receipt of the batch as it was.
 */
export async function completeReceipts(ds: DataSource, completions: readonly Completion[], requestId?: string): Promise<ReceiptRecord[]> {
  requireDistinct(completions.map((c) => c.receiptId), "receipt_id");
  return complete(ds, completions, batchEntry, requestId);
}

/**
 * The receipts are locked in id order (so concurrent batches cannot deadlock) and read once; the completed records
 * are built from that read, not read again. A handful of statements whatever the batch size.
 */
async function complete(ds: DataSource, completions: readonly Completion[], entry: EntryName, requestId?: string): Promise<ReceiptRecord[]> {
  if (completions.length === 0) return [];
  for (const c of completions) if (!isReceiptId(c.receiptId)) throw notFound("receipt", c.receiptId);
  const completed = await ds.transaction(async (m) => {
    await useKeyedPlans(m);
    const byId = new Map((await lockReceipts(m, completions.map((c) => c.receiptId))).map((r) => [r.receiptId, r]));
    const outcomes = completions.map((c, i) => {
      const stored = byId.get(c.receiptId);
      if (!stored) throw notFound("receipt", c.receiptId);
      return applyCompletion(stored, c, entry(i));
    });
    const changed = outcomes.filter((o) => o.changed).map((o) => o.receipt);
    await setCompletions(m, changed);
    const supersessions = supersessionsOf(changed);
    const marked = await markSuperseded(m, supersessions);
    await enqueueReceiptsCompleted(
      m,
      changed.map((receipt) => ({ receipt, supersededSegmentId: supersededBy(receipt, supersessions, marked) })),
      requestId,
    );
    return outcomes.map((o) => o.receipt);
  });
  writtenReceiptsOf(ds).remember(completed);
  return completed;
}
