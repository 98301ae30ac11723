/**
 * Content Credentials: the console's server signs a copy of the segment's file with a C2PA manifest made from its
 * current receipt (`POST /c2pa/sign?segment=…`, apps/console/server/src/c2pa-sign.ts) — only when the file is that
 * receipt's output — and answers the copy with what its manifest says when read back.
 */

/** What the manifest of the signed copy says (the server's `C2paSummary`). */
export interface C2paSummary {
  receiptId: string;
  segmentId: string;
  format: string;
  fileName: string;
  inputSha256: string;
  outputSha256: string;
  manifest: string;
  actions: { action: string; digitalSourceType?: string }[];
  ingredients: { title?: string; relationship?: string; contentHash?: string }[];
  receipt?: { receipt_id: string; inputs_hash: string; output_hash: string; model?: string; loras: string[]; seed: string };
  signedBy: { commonName?: string; issuer?: string; alg?: string };
  validation: { state: string; failures: string[] };
  certificate: { local: boolean; note: string };
}

/** A signed copy, or why not. */
export type C2paSignResult = { ok: true; file: Blob; fileName: string; summary: C2paSummary } | { ok: false; message: string };

/** Signs `file` as the output of `segmentId`'s current receipt. */
export type C2paSign = (segmentId: string, file: File, signal?: AbortSignal) => Promise<C2paSignResult>;

const HEADER = "x-provenance-c2pa";

function decodeSummary(header: string): C2paSummary {
  const b64 = header.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))) as C2paSummary;
}

/** The signing through the console's own server (same origin, the session cookie signs the call in). */
export const signWithC2pa: C2paSign = async (segmentId, file, signal) => {
  const params = new URLSearchParams({ segment: segmentId, name: file.name });
  const res = await fetch(`/c2pa/sign?${params}`, {
    method: "POST",
    credentials: "same-origin",
    signal,
    headers: { "content-type": file.type || "application/octet-stream" },
    body: file,
  });
  const header = res.headers.get(HEADER);
  if (res.ok && header) {
    const summary = decodeSummary(header);
    const disposition = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "");
    return { ok: true, file: await res.blob(), fileName: disposition?.[1] ?? summary.fileName, summary };
  }
  const body = (res.headers.get("content-type")?.startsWith("application/json") ? await res.json() : undefined) as { message?: unknown } | undefined;
  if (res.status === 404 || res.status === 405) return { ok: false, message: "this console's server does not sign Content Credentials" };
  return { ok: false, message: typeof body?.message === "string" ? body.message : `HTTP ${res.status}` };
};
