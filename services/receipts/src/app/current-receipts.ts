/**
 * BatchGetCurrentReceipts: many segments' current receipts in one statement outside any transaction (a completed
 * receipt never changes, so no snapshot needs to span statements) — what regeneration planning reads per stale segment.
 */
import type { DataSource } from "typeorm";
import { projectFilter } from "@provenance/shared";
import type { ProjectScope } from "@provenance/shared/auth";
import { currentReceipts, type SegmentCurrentReceiptRecord } from "../persistence/segment-repository.js";

/**
 * The stored segments among `segmentIds` in the projects of `viewable` (the caller's), each with its current receipt,
 * in the order asked; a segment not stored or not viewable is left out (the two read alike, so nothing is revealed),
 * and one asked twice is answered once, where first asked.
 */
export async function batchGetCurrentReceipts(
  ds: DataSource,
  segmentIds: readonly string[],
  viewable: ProjectScope,
): Promise<SegmentCurrentReceiptRecord[]> {
  const projects = projectFilter(viewable);
  if (projects !== undefined && projects.length === 0) return [];
  const found = await currentReceipts(ds.manager, segmentIds, projects);
  const out: SegmentCurrentReceiptRecord[] = [];
  for (const id of new Set(segmentIds)) {
    const entry = found.get(id);
    if (entry) out.push(entry);
  }
  return out;
}
