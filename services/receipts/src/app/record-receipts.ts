/**
 * CreateReceipt / CreateReceipts: records receipts (and their segments on first sight) in one transaction, idempotent
 * per key, and enqueues one provenance.receipt.created per new receipt in the same transaction.
 */
import type { DataSource } from "typeorm";
import { useKeyedPlans } from "@provenance/shared";
import { batchEntry, requireDistinct, singleCall, type EntryName } from "../domain/batch-entries.js";
import { replayedReceipt } from "../domain/idempotency.js";
import type { ReceiptDraft } from "../domain/new-receipt.js";
import { newReceiptRecord, type ReceiptRecord } from "../domain/receipt-record.js";
import { checkReproductionTargets, reproducedReceiptIds } from "../domain/reproduction.js";
import { checkSegmentPlacement } from "../domain/segment-placement.js";
import { checkSupersessionTargets, supersededSegmentIds } from "../domain/supersession.js";
import { enqueueReceiptsCreated } from "../events/receipt-events.js";
import { insertInputs, insertReceipts, receiptProjects, receiptsByIdempotencyKeys } from "../persistence/receipt-repository.js";
import { insertSegments, segmentProjects, segmentsByIds } from "../persistence/segment-repository.js";

/** A receipt CreateReceipt answers with, and whether this call wrote it (false: a retry of an earlier call). */
export interface RecordedReceipt {
  receipt: ReceiptRecord;
  created: boolean;
}

/** Who records: the caller's `sub` (stored as recorded_by), and the request's id for the events. */
export interface Recorder {
  recordedBy: string;
  requestId?: string;
}

/** CreateReceipt: records one receipt (see {@link recordReceipts}); errors name its fields as they are. */
export async function recordReceipt(ds: DataSource, draft: ReceiptDraft, by: Recorder): Promise<RecordedReceipt> {
  const [result] = await record(ds, [draft], singleCall, by);
  return result!;
}

/**
 * CreateReceipts: records every receipt of a batch or none. Each idempotency key at most once in a batch
 * (INVALID_ARGUMENT). Any rejection — a key reused with other content (ALREADY_EXISTS), a segment moving
 * (FAILED_PRECONDITION), a bad superseded segment (INVALID_ARGUMENT) — rolls the whole batch back and names the
 * entry as `receipts[i].`. A retry gets the stored receipt as it was recorded (by whoever recorded it).
 */
export async function recordReceipts(ds: DataSource, drafts: readonly ReceiptDraft[], by: Recorder): Promise<RecordedReceipt[]> {
  requireDistinct(drafts.map((d) => d.idempotencyKey), "idempotency_key");
  return record(ds, drafts, batchEntry, by);
}

/**
 * Set-based, a handful of statements whatever the batch size: the happy path inserts first (segments, receipts,
 * inputs: one multi-row INSERT each, one outbox write) and builds its answers from what it wrote, with no lookup
 * before and no re-read after; only keys used before are looked up, once for all.
 */
async function record(ds: DataSource, drafts: readonly ReceiptDraft[], entry: EntryName, by: Recorder): Promise<RecordedReceipt[]> {
  if (drafts.length === 0) return [];
  return ds.transaction(async (m) => {
    await useKeyedPlans(m);
    const targets = supersededSegmentIds(drafts, entry);
    if (targets.length > 0) checkSupersessionTargets(drafts, await segmentProjects(m, targets), entry);
    const reproduced = reproducedReceiptIds(drafts, entry);
    if (reproduced.length > 0) checkReproductionTargets(drafts, await receiptProjects(m, reproduced), entry);

    await insertSegments(m, drafts.map((d) => d.segment));
    const stored = await insertReceipts(m, drafts, by.recordedBy);
    const fresh = drafts.flatMap((draft, i) => {
      const key = stored[i];
      return key ? [{ draft, i, key }] : [];
    });

    // A new receipt's segment is stored by now (inserted, or there before): it must be where the request puts it.
    const segments = await segmentsByIds(m, fresh.map((f) => f.draft.segment.segmentId));
    for (const { draft, i } of fresh) checkSegmentPlacement(draft.segment, segments.get(draft.segment.segmentId)!, entry(i));

    // Keys used before: retries get the stored receipt, conflicting reuses ALREADY_EXISTS.
    const reusedKeys = drafts.filter((_, i) => stored[i] === undefined).map((d) => d.idempotencyKey);
    const earlier = new Map((await receiptsByIdempotencyKeys(m, reusedKeys)).map((r) => [r.idempotencyKey, r]));
    const replayed = new Map<number, ReceiptRecord>();
    drafts.forEach((draft, i) => {
      if (stored[i] === undefined) replayed.set(i, replayedReceipt(draft, earlier.get(draft.idempotencyKey), entry(i)));
    });

    await insertInputs(
      m,
      fresh.flatMap(({ draft, key }) => draft.inputs.map((input) => ({ ...input, receiptId: key.receiptId, receiptSeq: key.seq }))),
    );
    const created = new Map(fresh.map(({ draft, i, key }) => [i, newReceiptRecord(draft, key, segments.get(draft.segment.segmentId)!, by.recordedBy)]));
    await enqueueReceiptsCreated(m, [...created.values()], by.requestId);
    return drafts.map((_, i) => {
      const receipt = created.get(i);
      return receipt ? { receipt, created: true } : { receipt: replayed.get(i)!, created: false };
    });
  });
}
