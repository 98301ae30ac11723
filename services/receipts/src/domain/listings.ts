/** Projects and segments as the list RPCs show them, and their mapping to the API messages: pure, no I/O. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ProjectSummarySchema, ReceiptStatus, SegmentListingSchema, type ProjectSummary, type SegmentListing } from "@provenance/shared";
import { receiptStatusOf, toSegmentMessage, type ReceiptStatusName, type SegmentRecord } from "./receipt-record.js";

/** A project as the receipts know it: its scenes and segments counted, and when its newest receipt was recorded. */
export interface ProjectSummaryRecord {
  projectId: string;
  sceneCount: number;
  activeSegmentCount: number;
  supersededSegmentCount: number;
  /** null only for a project whose segments have no receipt (which the write path never leaves). */
  lastRecordedAt: Date | null;
}

/** One segment with what a list shows of its receipts. */
export interface SegmentListingRecord {
  segment: SegmentRecord;
  /** The latest SUCCEEDED receipt's id (the current receipt); null when none has succeeded. */
  currentReceiptId: string | null;
  /** The status of the segment's newest receipt; null when it has none. */
  latestStatus: ReceiptStatusName | null;
  receiptCount: number;
}

/** Maps a project summary to the API message. */
export function toProjectSummaryMessage(p: ProjectSummaryRecord): ProjectSummary {
  return create(ProjectSummarySchema, {
    projectId: p.projectId,
    sceneCount: p.sceneCount,
    activeSegmentCount: p.activeSegmentCount,
    supersededSegmentCount: p.supersededSegmentCount,
    lastRecordedAt: p.lastRecordedAt ? timestampFromDate(p.lastRecordedAt) : undefined,
  });
}

/** Maps a segment listing to the API message. */
export function toSegmentListingMessage(l: SegmentListingRecord): SegmentListing {
  return create(SegmentListingSchema, {
    segment: toSegmentMessage(l.segment),
    currentReceiptId: l.currentReceiptId ?? "",
    latestStatus: l.latestStatus ? receiptStatusOf(l.latestStatus) : ReceiptStatus.UNSPECIFIED,
    receiptCount: l.receiptCount,
  });
}
