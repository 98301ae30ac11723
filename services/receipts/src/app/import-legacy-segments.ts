/**
 * ImportLegacySegments: records segments made before receipts were recorded as LEGACY receipts (and the segments on
 * first sight), up to 1,000 in one transaction, all or none, and enqueues one provenance.receipt.created per new
 * receipt in the same transaction. Importing a segment again with the same content returns its receipt and writes
 * nothing; with other content it is ALREADY_EXISTS.
 */
import type { DataSource } from "typeorm";
import { useKeyedPlans, withFieldPrefix, type LegacySegment } from "@provenance/shared";
import { requireDistinct, type EntryName } from "../domain/batch-entries.js";
import { checkNotRecorded, draftLegacySegment, legacyReceiptRecord, replayedLegacy, type LegacyDraft } from "../domain/legacy-segment.js";
import type { ReceiptRecord } from "../domain/receipt-record.js";
import { checkSegmentPlacement } from "../domain/segment-placement.js";
import { enqueueReceiptsCreated } from "../events/receipt-events.js";
import { insertLegacyInputs, insertLegacyReceipts, recordedSegments } from "../persistence/legacy-repository.js";
import { receiptsByIdempotencyKeys } from "../persistence/receipt-repository.js";
import { insertSegments, segmentsByIds } from "../persistence/segment-repository.js";
import type { RecordedReceipt, Recorder } from "./record-receipts.js";

/** How an entry of the request is named in errors: `segments[i].<field>`. */
export const legacyEntry: EntryName = (i) => `segments[${i}].`;

/** The drafts of a request's segments (rule-table valid), each error naming its entry. */
export function draftLegacySegments(segments: readonly LegacySegment[]): LegacyDraft[] {
  requireDistinct(segments.map((s) => s.segmentId), "segment_id", legacyEntry);
  return segments.map((s, i) => withFieldPrefix(legacyEntry(i), () => draftLegacySegment(s)));
}

/**
 * Inserts first (segments, receipts, inputs: one statement each) and builds the answers from what it wrote; only
 * keys used before are looked up. A new receipt's segment must be where the request puts it (FAILED_PRECONDITION) and
 * must have no receipt recorded by the pipeline (FAILED_PRECONDITION); any failure rolls the whole import back.
 */
export async function importLegacySegments(ds: DataSource, drafts: readonly LegacyDraft[], by: Recorder): Promise<RecordedReceipt[]> {
  if (drafts.length === 0) return [];
  return ds.transaction(async (m) => {
    await useKeyedPlans(m);
    await insertSegments(m, drafts.map((d) => d.segment));
    const stored = await insertLegacyReceipts(m, drafts, by.recordedBy);
    const fresh = drafts.flatMap((draft, i) => {
      const key = stored[i];
      return key ? [{ draft, i, key }] : [];
    });
    const freshIds = fresh.map((f) => f.draft.segment.segmentId);
    const segments = await segmentsByIds(m, freshIds);
    const recorded = await recordedSegments(m, freshIds);
    for (const { draft, i } of fresh) {
      checkSegmentPlacement(draft.segment, segments.get(draft.segment.segmentId)!, legacyEntry(i));
      checkNotRecorded(draft, recorded, legacyEntry(i));
    }

    const reusedKeys = drafts.filter((_, i) => stored[i] === undefined).map((d) => d.idempotencyKey);
    const earlier = new Map((await receiptsByIdempotencyKeys(m, reusedKeys)).map((r) => [r.idempotencyKey, r]));
    const replayed = new Map<number, ReceiptRecord>();
    drafts.forEach((draft, i) => {
      if (stored[i] === undefined) replayed.set(i, replayedLegacy(draft, earlier.get(draft.idempotencyKey), legacyEntry(i)));
    });

    await insertLegacyInputs(
      m,
      fresh.flatMap(({ draft, key }) => draft.inputs.map((input) => ({ ...input, receiptId: key.receiptId, receiptSeq: key.seq }))),
    );
    const created = new Map(
      fresh.map(({ draft, i, key }) => [i, legacyReceiptRecord(draft, key, segments.get(draft.segment.segmentId)!, by.recordedBy)]),
    );
    await enqueueReceiptsCreated(m, [...created.values()], by.requestId);
    return drafts.map((_, i) => {
      const receipt = created.get(i);
      return receipt ? { receipt, created: true } : { receipt: replayed.get(i)!, created: false };
    });
  });
}
