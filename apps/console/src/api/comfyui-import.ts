/**
 * "Import from ComfyUI": the console's server builds the CreateReceipt request with @provenance/comfyui
 * (`POST /comfyui/receipt-request`, apps/console/server/src/comfyui-import.ts) — the library needs SHA-256 and its
 * lossless JSON parser keeps seeds above 2^53 exact; the page records the request through the proxy as the user.
 */

/** What the page sends: the three texts as pasted or picked, and the receipt's place. */
export interface ComfyImportInput {
  prompt: string;
  history?: string;
  assets?: string;
  segmentId: string;
  sceneId: string;
  projectId: string;
  characterName?: string;
  /** For a prompt that loads no image: the file (as in the asset map) to record as the source image. */
  sourceFile?: string;
  /** Default `comfyui:<prompt_id>` from the history. */
  idempotencyKey?: string;
  sequenceIndex?: number;
  allowUntracked?: boolean;
}

/** The server's answer (its `ComfyImportAnswer`). */
export type ComfyImportAnswer =
  | {
      ok: true;
      /** CreateReceiptRequest as proto JSON (snake_case; uint64 seeds as strings). */
      request: Record<string, unknown>;
      untracked: string[];
      run?: { outcome: "succeeded" | "failed" | "running"; completedAt?: string; error?: string };
      nodes: { sampler: string; model: string; loras: string[] };
    }
  | { ok: false; source: string; nodeId?: string; message: string };

/** Builds the request for `input`. */
export type BuildComfyRequest = (input: ComfyImportInput, signal?: AbortSignal) => Promise<ComfyImportAnswer>;

/** The build through the console's own server (same origin, the session cookie signs the call in). */
export const buildComfyRequest: BuildComfyRequest = async (input, signal) => {
  const res = await fetch("/comfyui/receipt-request", {
    method: "POST",
    credentials: "same-origin",
    signal,
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(input),
  });
  const body: unknown = res.headers.get("content-type")?.startsWith("application/json") ? await res.json() : undefined;
  const answer = body as Partial<ComfyImportAnswer> & { message?: unknown } | undefined;
  if ((res.ok || res.status === 422) && typeof answer?.ok === "boolean") return answer as ComfyImportAnswer;
  const message = typeof answer?.message === "string" ? answer.message : `HTTP ${res.status}`;
  return { ok: false, source: "console", message: res.status === 404 || res.status === 405 ? "this console's server cannot build ComfyUI receipts" : message };
};
