/**
 * The projection's rules for a batch of receipt events: which events are new, which segments they touch, placed by
 * whom and superseded by whom, and what each event did. Pure, no I/O; app/project-receipts.ts writes what this says.
 *
 * One rule is applied in SQL instead (persistence/projection-repository.ts, `upsertSegments`): a SUCCEEDED receipt
 * becomes its segment's current one only if it is later, by (created_at, receipt_id), than the stored one, compared
 * in the database so receipt ids order by its collation, as every other query orders them.
 */
import type { ProjectedReceipt } from "./projected-receipt.js";

/** What applying one event did. */
export type ApplyOutcome = "duplicate" | "applied" | "became-current";

/** One receipt event to apply: its id (the inbox key) and what it says of the receipt. */
export interface ProjectionEvent {
  eventId: string;
  receipt: ProjectedReceipt;
}

/** An event of the batch seen for the first time, with its place in the batch. */
export interface FirstDelivery {
  receipt: ProjectedReceipt;
  index: number;
}

/**
 * Each event whose id is in `fresh` (not yet in the inbox) once, in batch order: a repeat later in the batch, or an
 * event the inbox already had, is a duplicate and changes nothing. Returns every event's outcome so far ("applied"
 * or "duplicate") and the first deliveries.
 */
export function firstDeliveries(events: readonly ProjectionEvent[], fresh: ReadonlySet<string>): { outcomes: ApplyOutcome[]; applied: FirstDelivery[] } {
  const unseen = new Set(fresh);
  const applied: FirstDelivery[] = [];
  const outcomes = events.map((e, index): ApplyOutcome => {
    if (!unseen.delete(e.eventId)) return "duplicate";
    applied.push({ receipt: e.receipt, index });
    return "applied";
  });
  return { outcomes, applied };
}

/** A segment a batch touches, as its row is to be written. */
export interface TouchedSegment {
  segmentId: string;
  projectId: string;
  /** The batch's first receipt of the segment, which places it; none when the batch knows it only as a supersession's target. */
  placement?: ProjectedReceipt;
  /** The segment whose success superseded this one. */
  supersededBy?: string;
}

/**
 * Every segment the batch's receipts touch, once, in the order first seen: placed by its first receipt in the batch,
 * or known only as the target of a supersession (placed by its own receipts later, in the project of the receipt that
 * superseded it). The first supersession of a segment stays, as when applied one by one in batch order. Also returns
 * the segments superseded, each once.
 */
export function touchedSegments(receipts: readonly ProjectedReceipt[]): { segments: TouchedSegment[]; superseded: string[] } {
  const segments = new Map<string, TouchedSegment>();
  for (const r of receipts) if (!segments.has(r.segmentId)) segments.set(r.segmentId, { segmentId: r.segmentId, placement: r, projectId: r.projectId });
  const superseded: string[] = [];
  for (const r of receipts) {
    if (r.supersedesSegmentId === "") continue;
    const target = segments.get(r.supersedesSegmentId) ?? { segmentId: r.supersedesSegmentId, projectId: r.projectId };
    if (target.supersededBy === undefined) {
      target.supersededBy = r.segmentId;
      superseded.push(r.supersedesSegmentId);
    }
    segments.set(r.supersedesSegmentId, target);
  }
  return { segments: [...segments.values()], superseded };
}

/** The receipts (of `succeeded`) that the database made current, by the receipt ids it returned. */
export function receiptsMadeCurrent(succeeded: readonly ProjectedReceipt[], receiptIds: readonly string[]): ProjectedReceipt[] {
  const byReceipt = new Map(succeeded.map((r) => [r.receiptId, r]));
  return receiptIds.map((id) => byReceipt.get(id)!);
}

/** `outcomes` with "became-current" for the first delivery of each receipt in `current`. */
export function withBecameCurrent(outcomes: readonly ApplyOutcome[], applied: readonly FirstDelivery[], current: readonly ProjectedReceipt[]): ApplyOutcome[] {
  const out = [...outcomes];
  const pending = new Set(current);
  for (const e of applied) if (pending.delete(e.receipt)) out[e.index] = "became-current";
  return out;
}
