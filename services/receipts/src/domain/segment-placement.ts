/** A segment keeps its place: pure, no I/O. */
import { failedPrecondition } from "@provenance/shared";
import type { SegmentDraft } from "./new-receipt.js";
import type { SegmentRecord } from "./receipt-record.js";

/**
 * A segment never moves to another project or scene: a new receipt for a stored segment must name the segment's own
 * project and scene, else FAILED_PRECONDITION naming the field (prefixed by `entry`). The other project is not named:
 * the caller may have no grant on it (the scene is, as it is of the caller's own project).
 */
export function checkSegmentPlacement(requested: SegmentDraft, stored: SegmentRecord, entry: string): void {
  if (stored.projectId !== requested.projectId) {
    throw failedPrecondition(
      `${entry}project_id: segment "${requested.segmentId}" belongs to another project; a segment cannot move to another project`,
    );
  }
  if (stored.sceneId !== requested.sceneId) {
    throw failedPrecondition(
      `${entry}scene_id: segment "${requested.segmentId}" belongs to scene "${stored.sceneId}"; a segment cannot move to another scene`,
    );
  }
}
