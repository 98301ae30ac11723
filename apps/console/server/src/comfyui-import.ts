/**
 * `POST /comfyui/receipt-request`: the console's "Import from ComfyUI". The browser sends the texts of the API-format
 * prompt, the optional /history entry and the optional asset map with the receipt's place (segment, scene, project);
 * this server builds the CreateReceipt request with @provenance/comfyui — it needs node:crypto, and its lossless JSON
 * parser keeps seeds above 2^53 exact — and answers it as proto JSON (snake_case, as the CLI's --dry-run prints it,
 * uint64 as strings), or the library's refusal naming the node. Nothing is recorded here: the page sends the request
 * through the proxy as the user.
 */
import type { IncomingMessage } from "node:http";

/** Largest request body read (three JSON texts; the CLI reads at most 16 MiB per file). */
export const MAX_COMFYUI_BODY_BYTES = 48 * 1024 * 1024;

/** The browser's request. */
export interface ComfyImportBody {
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

/** The answer: the request, or why not (with the input and node it is about). */
export type ComfyImportAnswer =
  | {
      ok: true;
      /** CreateReceiptRequest as proto JSON, snake_case names. */
      request: Record<string, unknown>;
      untracked: string[];
      /** From the history: how the run ended (`running` when it did not say), and when. */
      run?: { outcome: string; completedAt?: string; error?: string };
      nodes: { sampler: string; model: string; loras: readonly string[] };
    }
  | { ok: false; source: string; nodeId?: string; message: string };

/** A body the server refuses before the library sees it. */
export class ComfyImportRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a JSON body of at most `limit` bytes. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  if (!(req.headers["content-type"] ?? "").toLowerCase().startsWith("application/json")) throw new ComfyImportRefusal(415, "the body must be application/json");
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) throw new ComfyImportRefusal(413, `the body is ${declared} bytes; at most ${limit} are read`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ComfyImportRefusal(413, `the body is over ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new ComfyImportRefusal(400, "the body is not JSON");
  }
}

function field(body: Record<string, unknown>, name: keyof ComfyImportBody, required: boolean): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === "") {
    if (required) throw new ComfyImportRefusal(400, `${name}: is required`);
    return undefined;
  }
  if (typeof v !== "string") throw new ComfyImportRefusal(400, `${name}: must be a string`);
  return v;
}

/** Builds the answer for one body (already parsed as JSON). */
export async function buildComfyImport(raw: unknown): Promise<ComfyImportAnswer> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ComfyImportRefusal(400, "the body must be a JSON object");
  const body = raw as Record<string, unknown>;
  const promptText = field(body, "prompt", true)!;
  const historyText = field(body, "history", false);
  const assetsText = field(body, "assets", false);
  const segmentId = field(body, "segmentId", true)!;
  const sceneId = field(body, "sceneId", true)!;
  const projectId = field(body, "projectId", true)!;
  const characterName = field(body, "characterName", false);
  const sourceFile = field(body, "sourceFile", false);
  const idempotencyKey = field(body, "idempotencyKey", false);
  const index = body.sequenceIndex ?? 0;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > 1_000_000) throw new ComfyImportRefusal(400, "sequenceIndex: must be an integer from 0 to 1000000");

  // Loaded on first use: the console's other routes need none of it.
  const lib = await import("@provenance/comfyui");
  const { toJson } = await import("@bufbuild/protobuf");
  const { CreateReceiptRequestSchema } = await import("@provenance/shared");
  const parse = (source: "prompt" | "history" | "assets", text: string) => {
    try {
      return lib.parseComfyJson(text);
    } catch (err) {
      if (err instanceof lib.JsonSyntaxError) throw new lib.ComfyReceiptError(source, `is not JSON: ${err.message}`);
      throw err;
    }
  };
  try {
    const receipt = lib.receiptFromComfyPrompt({
      prompt: parse("prompt", promptText),
      history: historyText === undefined ? undefined : parse("history", historyText),
      assets: assetsText === undefined ? undefined : parse("assets", assetsText),
      options: {
        segmentId,
        sceneId,
        projectId,
        characterName,
        sequenceIndex: index,
        sourceFile,
        idempotencyKey,
        // Without a history the run starts now, as the CLI does.
        startedAt: historyText === undefined ? new Date() : undefined,
        allowUntracked: body.allowUntracked === true,
      },
    });
    const run = receipt.run;
    return {
      ok: true,
      request: toJson(CreateReceiptRequestSchema, receipt.request, { useProtoFieldName: true }) as Record<string, unknown>,
      untracked: [...receipt.untracked],
      run: run === undefined ? undefined : { outcome: run.outcome, completedAt: run.completedAt?.toISOString(), error: run.error },
      nodes: { sampler: receipt.nodes.sampler, model: receipt.nodes.model, loras: receipt.nodes.loras },
    };
  } catch (err) {
    if (err instanceof lib.ComfyReceiptError) return { ok: false, source: err.source, nodeId: err.nodeId, message: err.message };
    throw err;
  }
}
