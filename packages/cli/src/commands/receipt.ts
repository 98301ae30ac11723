/** `provenance receipt show|history <segment-id>`: what made a segment, and every receipt it has had. */
import {
  GetSegmentProvenanceResponseSchema,
  ReceiptStatus,
  type AssetRef,
  type GetSegmentProvenanceResponse,
  type Receipt,
} from "@provenance/shared";
import type { Command, CommandContext } from "../command.js";
import { writeJson } from "../command.js";
import { enumLabel, formatDuration, formatNumber, formatTime, formatVersion, shortHash } from "../output/format.js";
import { renderFields, renderTable } from "../output/table.js";

async function fetchProvenance(ctx: CommandContext, segmentId: string): Promise<GetSegmentProvenanceResponse> {
  return ctx.clients.receipts.call((c, o) => c.getSegmentProvenance({ segmentId }, o));
}

/** "asset-id v3 0123456789ab", or "—" when the input is absent. */
export function formatAssetRef(ref: AssetRef | undefined): string {
  if (!ref || ref.assetId === "") return "—";
  return `${ref.assetId} ${formatVersion(ref.version)} ${shortHash(ref.contentHash)}`;
}

/** The label/value lines of one receipt's inputs, timing and output. */
export function receiptFields(receipt: Receipt): [string, string][] {
  const loras = receipt.loras.length
    ? receipt.loras.map((l, i) => `${i + 1}. ${formatAssetRef(l.asset)} weight ${formatNumber(l.weight)}`).join("\n")
    : "—";
  const params =
    receipt.additionalParams && Object.keys(receipt.additionalParams).length > 0 ? JSON.stringify(receipt.additionalParams) : "—";
  const fields: [string, string][] = [
    ["receipt", `${receipt.receiptId} (${enumLabel(ReceiptStatus, receipt.status)})`],
    ["source image", formatAssetRef(receipt.sourceImage)],
    ["variant image", formatAssetRef(receipt.variantImage)],
    ["workflow", `${formatAssetRef(receipt.workflow)}${receipt.workflowVersion ? ` (${receipt.workflowVersion})` : ""}`],
    ["model", formatAssetRef(receipt.model)],
    ["loras", loras],
    ["prompt", receipt.promptText || "—"],
    ["negative prompt", receipt.negativePrompt || "—"],
    ["seed", receipt.seed.toString()],
    ["cfg", formatNumber(receipt.cfgScale)],
    ["steps", String(receipt.steps)],
    ["sampler", receipt.sampler || "—"],
    ["resolution", `${receipt.resolutionWidth}x${receipt.resolutionHeight}`],
    ["params", params],
    ["started", formatTime(receipt.generationStartedAt)],
    ["completed", formatTime(receipt.generationCompletedAt)],
    ["duration", receipt.generationCompletedAt ? formatDuration(receipt.generationDurationMs) : "—"],
    ["inputs hash", shortHash(receipt.inputsHash)],
    ["output hash", shortHash(receipt.outputHash)],
  ];
  if (receipt.regenerationJobId) fields.push(["regeneration job", receipt.regenerationJobId]);
  if (receipt.supersedesSegmentId) fields.push(["supersedes", receipt.supersedesSegmentId]);
  return fields;
}

/** `receipt show <segment-id>`. */
export const receiptShow: Command = {
  path: ["receipt", "show"],
  positionals: ["segment-id"],
  summary: "the inputs of a segment's current receipt: images, workflow, model, LoRAs, prompt, seed, timing, output",
  options: {},
  async run(ctx, args) {
    const res = await fetchProvenance(ctx, args.positionals[0]!);
    if (ctx.json) return writeJson(ctx, GetSegmentProvenanceResponseSchema, res);
    const seg = res.segment;
    const fields: [string, string][] = [];
    if (seg) {
      const state = seg.active ? "active" : `superseded by ${seg.supersededBySegmentId || "a newer segment"}`;
      fields.push(
        ["segment", `${seg.segmentId} (${state})`],
        ["scene", `${seg.sceneId} in project ${seg.projectId}`],
        ["character", `${seg.characterName || "—"} #${seg.sequenceIndex}`],
      );
    }
    const receipt = res.currentReceipt ?? res.history[0];
    if (receipt && !res.currentReceipt) {
      fields.push(["note", `no successful receipt yet; showing the latest (${enumLabel(ReceiptStatus, receipt.status)})`]);
    }
    if (receipt) fields.push(...receiptFields(receipt));
    else fields.push(["receipt", "none recorded yet"]);
    ctx.io.stdout.write(renderFields(fields));
  },
};

/** `receipt history <segment-id>`. */
export const receiptHistory: Command = {
  path: ["receipt", "history"],
  positionals: ["segment-id"],
  summary: "every receipt of a segment, newest first; * marks the current one",
  options: {},
  async run(ctx, args) {
    const res = await fetchProvenance(ctx, args.positionals[0]!);
    if (ctx.json) return writeJson(ctx, GetSegmentProvenanceResponseSchema, res);
    const currentId = res.currentReceipt?.receiptId;
    const rows = res.history.map((r) => [
      r.receiptId === currentId ? "*" : "",
      r.receiptId,
      enumLabel(ReceiptStatus, r.status),
      formatTime(r.generationStartedAt),
      r.generationCompletedAt ? formatDuration(r.generationDurationMs) : "—",
      shortHash(r.inputsHash),
    ]);
    ctx.io.stdout.write(
      renderTable(
        [
          { header: "" },
          { header: "RECEIPT" },
          { header: "STATUS" },
          { header: "STARTED" },
          { header: "DURATION", align: "right" },
          { header: "INPUTS HASH" },
        ],
        rows,
        "no receipts",
      ),
    );
  },
};
