/**
 * The projection of segment inputs, fed by the receipt events consumer (events/receipt-projection.ts): applies a batch
 * of events in one transaction with their inbox marks, with a fixed number of set-based statements whatever the
 * batch size.
 */
import type { DataSource } from "typeorm";
import { firstDeliveries, receiptsMadeCurrent, touchedSegments, withBecameCurrent, type ApplyOutcome, type ProjectionEvent } from "../domain/projection-batch.js";
import type { ProjectedReceipt } from "../domain/projected-receipt.js";
import {
  deactivateSegmentInputs,
  deleteSegmentInputs,
  insertSegmentInputs,
  markEventsProcessed,
  markLegacySegments,
  upsertSegments,
  useKeyedPlansForBatch,
} from "../persistence/projection-repository.js";

/** Applies receipt events to the projection. */
export class ProjectReceipts {
  constructor(private readonly dataSource: DataSource) {}

  /** Applies one receipt event: {@link applyBatch} of one. */
  async apply(eventId: string, r: ProjectedReceipt): Promise<ApplyOutcome> {
    const [outcome] = await this.applyBatch([{ eventId, receipt: r }]);
    return outcome!;
  }

  /**
   * Applies receipt events in one transaction with their inbox marks; returns each event's outcome, in order. An event
   * already in the inbox (or earlier in the batch) changes nothing. Either event of a receipt can record the segment; a
   * SUCCEEDED receipt becomes current only if it is later (by created_at, then receipt_id) than the current one, so
   * the order of events within and across batches does not matter; RUNNING and FAILED receipts never replace it. The
   * result is the same as applying the events one by one.
   *
   * Locks are taken in a fixed order, so concurrent batches (replicas sharing the durable) wait for each other and
   * never deadlock: inbox rows by event id, then every segment row the batch touches by segment id, in one statement;
   * segment inputs are written only for segments whose row the transaction holds.
   */
  async applyBatch(events: readonly ProjectionEvent[]): Promise<ApplyOutcome[]> {
    if (events.length === 0) return [];
    return this.dataSource.transaction(async (m) => {
      await useKeyedPlansForBatch(m);
      const fresh = await markEventsProcessed(m, events.map((e) => e.eventId));
      const { outcomes, applied } = firstDeliveries(events, fresh);
      if (applied.length === 0) return outcomes;
      const receipts = applied.map((e) => e.receipt);
      const { segments, superseded } = touchedSegments(receipts);
      const succeeded = receipts.filter((r) => r.succeeded);

      const promoted = await upsertSegments(m, segments, succeeded);
      // Segments with a LEGACY receipt: their rows are this transaction's (written or locked by the upsert).
      const legacy = receipts.filter((r) => r.legacy).map((r) => r.segmentId);
      if (legacy.length > 0) await markLegacySegments(m, legacy);
      let result = outcomes;
      if (promoted.length > 0) {
        const current = receiptsMadeCurrent(succeeded, promoted.map((p) => p.receiptId));
        await deleteSegmentInputs(m, current.map((r) => r.segmentId));
        await insertSegmentInputs(m, current);
        result = withBecameCurrent(outcomes, applied, current);
      }
      // Inputs of a superseded segment stop counting as active (those just written already are not).
      if (superseded.length > 0) await deactivateSegmentInputs(m, superseded);
      return result;
    });
  }
}
