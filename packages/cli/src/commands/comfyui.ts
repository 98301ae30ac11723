/** `provenance comfyui receipt`: records (or, with --dry-run, prints) the receipt of a ComfyUI generation. */
import { readFileSync, statSync } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ComfyReceiptError,
  DEFAULT_WORKFLOW_ASSET_ID,
  JsonSyntaxError,
  NO_VARIANT,
  parseComfyJson,
  receiptFromComfyPrompt,
  type ComfyJson,
  type ComfyReceiptOptionName,
  type ComfyReceiptOptions,
} from "@provenance/comfyui";
import { CreateReceiptRequestSchema, CreateReceiptResponseSchema, ReceiptStatus } from "@provenance/shared";
import { flag, intValue, parseContentHash, requiredString, stringValue, type ParsedArgs } from "../args.js";
import type { Command } from "../command.js";
import { writeJson } from "../command.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";

/** Largest prompt, history or asset map file read. */
export const MAX_COMFYUI_FILE_BYTES = 16 * 1024 * 1024;

/** The flag behind each library option, for messages. */
const OPTION_FLAGS: Readonly<Record<ComfyReceiptOptionName, string>> = {
  idempotencyKey: "--key",
  startedAt: "--started-at",
  sourceImage: "--source-image",
  variantImage: "--variant-image",
  sourceFile: "--source-file",
  sampler: "--sampler",
  resolution: "--resolution",
  segment: "--segment",
};

function readJsonFile(option: string, path: string): ComfyJson {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_COMFYUI_FILE_BYTES) throw usageError(`--${option} ${path} is ${size} bytes; at most ${MAX_COMFYUI_FILE_BYTES} are read`);
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof CliError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw usageError(`--${option}: cannot read ${path} (${e.code ?? e.message})`);
  }
  try {
    return parseComfyJson(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw usageError(`--${option} ${path}: ${err.message}`);
    throw err;
  }
}

function parseResolution(raw: string | undefined): { width: number; height: number } | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d{1,5})x(\d{1,5})$/i.exec(raw);
  const width = Number(m?.[1]);
  const height = Number(m?.[2]);
  if (!m || width < 1 || height < 1 || width > 65_536 || height > 65_536) {
    throw usageError(`--resolution must be WIDTHxHEIGHT in pixels, e.g. 832x480, got "${raw}"`);
  }
  return { width, height };
}

function parseTime(raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(date.getTime())) {
    throw usageError(`--started-at must be an ISO 8601 time such as 2026-11-21T10:00:00Z, got "${raw}"`);
  }
  return date;
}

/** The library's error as a usage error naming the flag (and file) it is about. */
function cliErrorOf(err: ComfyReceiptError, args: ParsedArgs): CliError {
  switch (err.source) {
    case "prompt":
      return usageError(`--prompt ${stringValue(args, "prompt")}: ${err.message}`);
    case "history":
      return usageError(`--history ${stringValue(args, "history")}: ${err.message}`);
    case "assets": {
      const file = stringValue(args, "assets");
      const hint = flag(args, "allow-untracked") ? "" : file === undefined ? " (give --assets MAP.json, or --allow-untracked)" : " (add it, or pass --allow-untracked)";
      return usageError(`${file === undefined ? "--assets" : `--assets ${file}`}: ${err.message}${hint}`);
    }
    case "options":
      return usageError(`${err.option ? OPTION_FLAGS[err.option] : "options"}: ${err.message}`);
  }
}

/** `comfyui receipt --prompt FILE [--history FILE] [--assets MAP.json] --segment S --scene SC --project P …`. */
export const comfyuiReceipt: Command = {
  path: ["comfyui", "receipt"],
  positionals: [],
  summary: "record the receipt of a ComfyUI generation from its API-format prompt (and /history entry); --dry-run prints it",
  options: {
    prompt: { type: "string", value: "FILE", required: true, description: "the API-format prompt (the /prompt body, or its prompt object)" },
    history: { type: "string", value: "FILE", description: "its /history/<prompt_id> answer: start time, prompt id, outputs" },
    assets: { type: "string", value: "MAP.json", description: '{"<file name>": {"asset_id": …, "content_hash": …, "version"?: …}}' },
    segment: { type: "string", value: "S", required: true, description: "the segment the generation made" },
    scene: { type: "string", value: "SC", required: true, description: "its scene" },
    project: { type: "string", value: "P", required: true, description: "its project" },
    character: { type: "string", value: "C", description: "the character's name" },
    index: { type: "string", value: "N", description: "the segment's position in the scene (default 0)" },
    key: { type: "string", value: "K", description: "idempotency key (default comfyui:<prompt_id> from --history)" },
    "workflow-asset": { type: "string", value: "ID", description: `the workflow's asset id (default ${DEFAULT_WORKFLOW_ASSET_ID})` },
    "workflow-version": { type: "string", value: "LABEL", description: "the workflow version label to record" },
    "source-image": { type: "string", value: "NODE", description: 'the LoadImage node (id or title) of the source image (default: titled "source", or the only one)' },
    "variant-image": { type: "string", value: "NODE", description: `the LoadImage node of the variant image (default: titled "variant"); ${NO_VARIANT} for none` },
    "source-file": { type: "string", value: "NAME", description: "for a prompt that loads no image: the file (as in MAP.json) to record as source" },
    sampler: { type: "string", value: "NODE", description: "the sampler node (id or title) when the prompt has several final ones" },
    resolution: { type: "string", value: "WxH", description: "the size, when the prompt does not say it (image-to-image)" },
    "started-at": { type: "string", value: "TIME", description: "when generation started, without --history (default now)" },
    "allow-untracked": { type: "boolean", description: "record files missing from MAP.json as untracked placeholders instead of failing" },
    complete: { type: "boolean", description: "also complete the receipt as the history says the run ended" },
    "output-hash": { type: "string", value: "HASH", description: "with --complete: SHA-256 of the output file" },
    "dry-run": { type: "boolean", description: "print the CreateReceipt request (proto JSON, snake_case, as buf curl -d takes it) and send nothing" },
  },
  async run(ctx, args) {
    const historyFile = stringValue(args, "history");
    const assetsFile = stringValue(args, "assets");
    const complete = flag(args, "complete");
    const outputHashRaw = stringValue(args, "output-hash");
    if (complete && historyFile === undefined) throw usageError("--complete needs --history: the history says when and how the run ended");
    if (outputHashRaw !== undefined && !complete) throw usageError("--output-hash is only used with --complete");
    const outputHash = outputHashRaw === undefined ? "" : parseContentHash(outputHashRaw, "--output-hash");
    const variant = stringValue(args, "variant-image");
    const options: ComfyReceiptOptions = {
      segmentId: requiredString(args, "segment"),
      sceneId: requiredString(args, "scene"),
      projectId: requiredString(args, "project"),
      characterName: stringValue(args, "character"),
      sequenceIndex: intValue(args, "index", 0, 1_000_000),
      idempotencyKey: stringValue(args, "key"),
      startedAt: parseTime(stringValue(args, "started-at")) ?? (historyFile === undefined ? new Date() : undefined),
      workflowAssetId: stringValue(args, "workflow-asset"),
      workflowVersion: stringValue(args, "workflow-version"),
      sourceImage: stringValue(args, "source-image"),
      variantImage: variant?.toLowerCase() === NO_VARIANT ? NO_VARIANT : variant,
      sourceFile: stringValue(args, "source-file"),
      sampler: stringValue(args, "sampler"),
      fallbackResolution: parseResolution(stringValue(args, "resolution")),
      allowUntracked: flag(args, "allow-untracked"),
    };
    const prompt = readJsonFile("prompt", requiredString(args, "prompt"));
    const history = historyFile === undefined ? undefined : readJsonFile("history", historyFile);
    const assets = assetsFile === undefined ? undefined : readJsonFile("assets", assetsFile);

    let receipt;
    try {
      receipt = receiptFromComfyPrompt({ prompt, history, assets, options });
    } catch (err) {
      if (err instanceof ComfyReceiptError) throw cliErrorOf(err, args);
      throw err;
    }
    if (receipt.untracked.length > 0) {
      ctx.io.stderr.write(`provenance: recorded as untracked (not in ${assetsFile ?? "an asset map"}): ${receipt.untracked.join(", ")}\n`);
    }
    const run = receipt.run;
    if (complete && (run === undefined || run.outcome === "running" || run.completedAt === undefined)) {
      throw usageError(`--complete: the history does not say the run ended (no execution_success or execution_error message)`);
    }

    if (flag(args, "dry-run")) {
      ctx.io.stdout.write(`${JSON.stringify(toJson(CreateReceiptRequestSchema, receipt.request, { useProtoFieldName: true }), null, 2)}\n`);
      return;
    }
    const res = await ctx.clients.receipts.call((c, o) => c.createReceipt(receipt.request, o));
    const receiptId = res.receipt!.receiptId;
    // A retry of a receipt already completed (by an earlier run of this command) has nothing left to complete.
    if (complete && res.receipt!.status === ReceiptStatus.RUNNING) {
      const status = run!.outcome === "succeeded" ? ReceiptStatus.SUCCEEDED : ReceiptStatus.FAILED;
      const done = await ctx.clients.receipts.call((c, o) =>
        c.completeReceipt({ receiptId, status, generationCompletedAt: timestampFromDate(run!.completedAt!), outputHash }, o),
      );
      res.receipt = done.receipt;
    }
    if (ctx.json) return writeJson(ctx, CreateReceiptResponseSchema, res);
    ctx.io.stdout.write(`${receiptId}\n`);
    return ExitCode.ok;
  },
};
