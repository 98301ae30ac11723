/**
 * Where each list of the receipts service resumes: keyset positions and their opaque page tokens (built on the shared
 * `encodePageToken` / `decodePageToken`), and page sizes. Pure, no I/O. A token this service did not make is
 * INVALID_ARGUMENT on `page_token`.
 */
import { decodePageToken, decodeSeqToken, encodePageToken, invalidArgument, pageSizeOf } from "@provenance/shared";
import type { InputRoleName } from "./new-receipt.js";

/** Page size of ListProjects and ListSegments when the caller sends 0. */
export const LIST_DEFAULT_PAGE_SIZE = 100;

/** The page size of ListProjects / ListSegments for a requested one: 0 = 100, at most the shared maximum (1000). */
export function listPageSize(requested: number): number {
  return pageSizeOf(requested === 0 ? LIST_DEFAULT_PAGE_SIZE : requested);
}

function badToken(): never {
  throw invalidArgument("page_token", "is not a token this service returned; send next_page_token as given");
}

const ROLES: readonly InputRoleName[] = ["source_image", "variant_image", "workflow", "model", "lora"];

/** Where a page of GetAssetUsage ends: the last row's sort key (newest receipt first, then role and position). */
export interface UsageCursor {
  receiptSeq: bigint;
  role: InputRoleName;
  position: number;
}

/** The token resuming GetAssetUsage after `c`. */
export function usageCursorToken(c: UsageCursor): string {
  return encodePageToken(`${c.receiptSeq}:${c.role}:${c.position}`);
}

/** The position a GetAssetUsage token resumes at; undefined for "" (the first page). */
export function parseUsageCursor(token: string): UsageCursor | undefined {
  const pos = decodePageToken(token);
  if (pos === undefined) return undefined;
  const [seq, role, position] = pos.split(":");
  if (!seq || !/^\d{1,19}$/.test(seq) || !ROLES.includes(role as InputRoleName) || !/^\d{1,4}$/.test(position ?? "")) badToken();
  return { receiptSeq: BigInt(seq), role: role as InputRoleName, position: Number(position) };
}

/** The token resuming FindReceiptsByInputsHash after the receipt with `seq` (pages go newest first). */
export function seqCursorToken(seq: bigint): string {
  return encodePageToken(seq.toString());
}

/** The seq a FindReceiptsByInputsHash token resumes before; undefined for the first page. */
export function parseSeqCursor(token: string): bigint | undefined {
  return decodeSeqToken(token);
}

/** The token resuming ListProjects after the project `projectId` (projects go in project id order). */
export function projectCursorToken(projectId: string): string {
  return encodePageToken(JSON.stringify([projectId]));
}

/** The project id a ListProjects token resumes after; undefined for the first page. */
export function parseProjectCursor(token: string): string | undefined {
  const pos = decodePageToken(token);
  if (pos === undefined) return undefined;
  const key = parseJson(pos);
  if (!Array.isArray(key) || key.length !== 1 || typeof key[0] !== "string" || key[0] === "") badToken();
  return key[0] as string;
}

/** Where a page of ListSegments ends: the last segment's sort key (scene id, sequence index, segment id). */
export interface SegmentCursor {
  sceneId: string;
  sequenceIndex: number;
  segmentId: string;
}

/** The token resuming ListSegments after `c`. */
export function segmentCursorToken(c: SegmentCursor): string {
  return encodePageToken(JSON.stringify([c.sceneId, c.sequenceIndex, c.segmentId]));
}

/** The position a ListSegments token resumes after; undefined for the first page. */
export function parseSegmentCursor(token: string): SegmentCursor | undefined {
  const pos = decodePageToken(token);
  if (pos === undefined) return undefined;
  const key = parseJson(pos);
  if (
    !Array.isArray(key) || key.length !== 3 || typeof key[0] !== "string" || typeof key[2] !== "string" || key[2] === "" ||
    !Number.isSafeInteger(key[1]) || (key[1] as number) < 0
  ) {
    badToken();
  }
  return { sceneId: key[0] as string, sequenceIndex: key[1] as number, segmentId: key[2] as string };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return badToken();
  }
}

/**
 * One page of a list read with one row more than the page holds (`rows` has at most `limit + 1`): the page, and the
 * token of the next one — "" exactly when nothing follows, so the last page is never an empty one.
 */
export function pageOf<T>(rows: readonly T[], limit: number, tokenOf: (last: T) => string): { items: T[]; nextPageToken: string } {
  const items = rows.slice(0, limit);
  return { items, nextPageToken: rows.length > limit ? tokenOf(items[items.length - 1]!) : "" };
}
