/** Supersession: which segment a regeneration may replace, and when it does. Pure, no I/O. */
import { invalidArgument } from "@provenance/shared";
import type { EntryName } from "./batch-entries.js";
import type { ReceiptDraft } from "./new-receipt.js";
import type { ReceiptRecord } from "./receipt-record.js";

/**
 * The segments the receipts of a batch name as superseded (to look up), after the check that none names its own
 * segment (INVALID_ARGUMENT on `supersedes_segment_id`).
 */
export function supersededSegmentIds(drafts: readonly ReceiptDraft[], entry: EntryName): string[] {
  const ids: string[] = [];
  drafts.forEach((d, i) => {
    const old = d.segment.supersedesSegmentId;
    if (old === null) return;
    if (old === d.segment.segmentId) throw invalidArgument(`${entry(i)}supersedes_segment_id`, "must name another segment than segment_id");
    ids.push(old);
  });
  return ids;
}

/**
 * A superseded segment must exist — stored (`storedProjects`: the project of each named segment found) or new in
 * this same batch — and belong to the superseding receipt's project; else INVALID_ARGUMENT on `supersedes_segment_id`.
 * A segment of another project is refused without naming that project: the caller may have no grant on it.
 */
export function checkSupersessionTargets(
  drafts: readonly ReceiptDraft[],
  storedProjects: ReadonlyMap<string, string>,
  entry: EntryName,
): void {
  const projectOf = new Map(drafts.map((d) => [d.segment.segmentId, d.segment.projectId]));
  for (const [segmentId, projectId] of storedProjects) projectOf.set(segmentId, projectId);
  drafts.forEach((d, i) => {
    const old = d.segment.supersedesSegmentId;
    if (old === null) return;
    const project = projectOf.get(old);
    if (project === undefined) throw invalidArgument(`${entry(i)}supersedes_segment_id`, `segment "${old}" does not exist`);
    if (project !== d.segment.projectId) {
      throw invalidArgument(`${entry(i)}supersedes_segment_id`, `segment "${old}" cannot be superseded from this project`);
    }
  });
}

/** One old segment to mark superseded, and the receipt whose success supersedes it. */
export interface Supersession {
  oldSegmentId: string;
  newSegmentId: string;
  receiptId: string;
}

/**
 * The segments that receipts just completed supersede: only a SUCCEEDED receipt that names a segment supersedes it
 * (a RUNNING or FAILED one never does), and a segment is superseded once — by the first such receipt, in order.
 */
export function supersessionsOf(completed: readonly ReceiptRecord[]): Supersession[] {
  const byOld = new Map<string, Supersession>();
  for (const r of completed) {
    const old = r.supersedesSegmentId;
    if (r.status === "SUCCEEDED" && old && !byOld.has(old)) {
      byOld.set(old, { oldSegmentId: old, newSegmentId: r.segment.segmentId, receiptId: r.receiptId });
    }
  }
  return [...byOld.values()];
}

/**
 * The segment a completed receipt's event reports as superseded: the one it names, when this receipt is the one
 * that superseded it and it was marked now (`marked`: the segments the store marked; one superseded earlier is not
 * marked again). "" otherwise.
 */
export function supersededBy(receipt: ReceiptRecord, supersessions: readonly Supersession[], marked: ReadonlySet<string>): string {
  const old = receipt.supersedesSegmentId;
  if (!old || !marked.has(old)) return "";
  return supersessions.some((s) => s.oldSegmentId === old && s.receiptId === receipt.receiptId) ? old : "";
}
