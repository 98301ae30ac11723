/** Opaque keyset page tokens and page-size defaults shared by every list RPC. */
import { invalidArgument } from "../errors/index.js";

/** Page size when the caller sends 0. */
export const DEFAULT_PAGE_SIZE = 50;
/** The largest page any list RPC returns. */
export const MAX_PAGE_SIZE = 1000;

/** The page size to use for a requested one (0 = default). */
export function pageSizeOf(requested: number): number {
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

/** Encodes a keyset position (a string of the last row's sort key) as an opaque token. */
export function encodePageToken(position: string): string {
  return Buffer.from(`v1:${position}`, "utf8").toString("base64url");
}

/** Decodes a token made by {@link encodePageToken}; "" means the first page. Bad tokens are INVALID_ARGUMENT. */
export function decodePageToken(token: string): string | undefined {
  if (token === "") return undefined;
  const text = Buffer.from(token, "base64url").toString("utf8");
  if (!text.startsWith("v1:") || text.length === 3) {
    throw invalidArgument("page_token", "is not a token this service returned; send next_page_token as given");
  }
  return text.slice(3);
}

/** Decodes a token whose position is a numeric sequence. */
export function decodeSeqToken(token: string): bigint | undefined {
  const pos = decodePageToken(token);
  if (pos === undefined) return undefined;
  if (!/^\d{1,19}$/.test(pos)) {
    throw invalidArgument("page_token", "is not a token this service returned; send next_page_token as given");
  }
  return BigInt(pos);
}
