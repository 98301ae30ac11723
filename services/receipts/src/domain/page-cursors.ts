/**
 * Where each list of the receipts service resumes: keyset positions and their opaque page tokens (built on the shared
 * `encodePageToken` / `decodePageToken`), and page sizes. Pure, no I/O. A token this service did not make is
 * INVALID_ARGUMENT on `page_token`.
 */
import { decodePageToken, decodeSeqToken, encodePageToken, invalidArgument } from "@provenance/shared";
import type { InputRoleName } from "./new-receipt.js";

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
