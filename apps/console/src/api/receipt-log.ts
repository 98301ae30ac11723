/**
 * The receipt panel's log check: the console's server verifies a receipt as served against the receipt log with the
 * shared pure core (`GET /verify/receipts/<id>`, apps/console/server/src/receipt-log-check.ts) — the browser does not
 * take the receipts service's word for it, and has no SHA-256 / Ed25519 of its own to do it synchronously.
 */

/** What the console's server found (the server's `LogVerdict`). */
export interface LogVerdict {
  state: "verified" | "mismatch" | "unchecked";
  receiptId: string;
  checkpointSize?: number;
  origin?: string;
  key?: string;
  keySource?: "configured" | "first seen";
  leafIndexes?: Record<string, number>;
  reasons: string[];
}

/** Checks one receipt. */
export type ReceiptLogCheck = (receiptId: string, signal?: AbortSignal) => Promise<LogVerdict>;

function isVerdict(value: unknown): value is LogVerdict {
  const v = value as Partial<LogVerdict> | null;
  return typeof v === "object" && v !== null && ["verified", "mismatch", "unchecked"].includes(v.state as string) && Array.isArray(v.reasons);
}

/** The check through the console's own server (same origin, the session cookie signs the call in). */
export const checkReceiptLog: ReceiptLogCheck = async (receiptId, signal) => {
  const res = await fetch(`/verify/receipts/${encodeURIComponent(receiptId)}`, { credentials: "same-origin", signal, headers: { accept: "application/json" } });
  const body: unknown = res.headers.get("content-type")?.startsWith("application/json") ? await res.json() : undefined;
  if (res.ok && isVerdict(body)) return body;
  const message = typeof (body as { message?: unknown } | undefined)?.message === "string" ? (body as { message: string }).message : `HTTP ${res.status}`;
  return { state: "unchecked", receiptId, reasons: [res.ok ? "this console's server does not check the receipt log" : message] };
};
