/**
 * GetReceipt, GetSegmentProvenance, FindReceiptsByInputsHash: the forward reads, each one or two statements outside
 * any transaction (receipts never change once completed, so no snapshot needs to span statements).
 */
import type { DataSource } from "typeorm";
import { notFound, pageSizeOf, projectFilter } from "@provenance/shared";
import type { ProjectScope } from "@provenance/shared/auth";
import { currentReceiptOf } from "../domain/current-receipt.js";
import { parseSeqCursor, seqCursorToken } from "../domain/page-cursors.js";
import type { ReceiptRecord, SegmentRecord } from "../domain/receipt-record.js";
import { isReceiptId } from "../domain/receipt-id.js";
import { receiptById, receiptsByInputsHash, segmentHistory } from "../persistence/receipt-repository.js";

/** GetReceipt: one receipt by id; NOT_FOUND when there is none (any id that is not a UUID names none). */
export async function getReceipt(ds: DataSource, receiptId: string): Promise<ReceiptRecord> {
  const receipt = isReceiptId(receiptId) ? await receiptById(ds.manager, receiptId) : undefined;
  if (!receipt) throw notFound("receipt", receiptId);
  return receipt;
}

/** A segment's provenance: the segment, its current receipt (if any has succeeded) and every receipt, newest first. */
export interface SegmentProvenance {
  segment: SegmentRecord;
  current: ReceiptRecord | undefined;
  history: ReceiptRecord[];
}

/** GetSegmentProvenance, in one statement; NOT_FOUND for an unknown segment. */
export async function getSegmentProvenance(ds: DataSource, segmentId: string): Promise<SegmentProvenance> {
  const found = await segmentHistory(ds.manager, segmentId);
  if (!found) throw notFound("segment", segmentId);
  return { segment: found.segment, current: currentReceiptOf(found.receipts), history: found.receipts };
}

/** One page of FindReceiptsByInputsHash. */
export interface ReceiptsPage {
  receipts: ReceiptRecord[];
  nextPageToken: string;
}

/**
 * FindReceiptsByInputsHash: receipts with one inputs hash (any case) in the projects of `viewable` (the caller's),
 * newest first, keyset-paged on seq.
 */
export async function findReceiptsByInputsHash(
  ds: DataSource,
  query: { inputsHash: string; pageSize: number; pageToken: string },
  viewable: ProjectScope,
): Promise<ReceiptsPage> {
  const limit = pageSizeOf(query.pageSize);
  const receipts = await receiptsByInputsHash(
    ds.manager,
    query.inputsHash.toLowerCase(),
    limit,
    parseSeqCursor(query.pageToken),
    projectFilter(viewable),
  );
  const last = receipts.at(-1);
  return { receipts, nextPageToken: receipts.length === limit && last ? seqCursorToken(last.seq) : "" };
}
