/** `provenance receipt compare <left> <right>`: the field-level differences of two receipts, as a diff. */
import { CompareReceiptsResponseSchema, type CompareReceiptsResponse, type Receipt } from "@provenance/shared";
import type { Command } from "../command.js";
import { writeJson } from "../command.js";

function side(r: Receipt | undefined): string {
  return r ? `${r.receiptId} (segment ${r.segmentId}, project ${r.projectId})` : "";
}

/**
 * The diff text: a header naming both receipts, then each changed field as its label (with its path, and for an
 * input which parts differ), a `-` line with the left value and a `+` line with the right one; a count at the end.
 */
export function renderComparison(res: CompareReceiptsResponse): string {
  const lines = [`--- ${side(res.left)}`, `+++ ${side(res.right)}`];
  for (const f of res.fields) {
    if (!f.changed) continue;
    const parts = f.changedParts.length > 0 ? `: ${f.changedParts.join(", ")}` : "";
    lines.push(`${f.label} (${f.field}${parts})`, `- ${f.left === "" ? "(none)" : f.left}`, `+ ${f.right === "" ? "(none)" : f.right}`);
  }
  const n = res.changedFields;
  lines.push(n === 0 ? `no field differs (${res.fields.length} compared)` : `${n} of ${res.fields.length} fields differ`);
  return `${lines.join("\n")}\n`;
}

/** `receipt compare <left-receipt-id> <right-receipt-id>`. */
export const receiptCompare: Command = {
  path: ["receipt", "compare"],
  positionals: ["left-receipt-id", "right-receipt-id"],
  summary: "what differs between two receipts, field by field: - left, + right (inputs, prompts, parameters, hashes)",
  options: {},
  async run(ctx, args) {
    const [leftReceiptId, rightReceiptId] = args.positionals as [string, string];
    const res = await ctx.clients.receipts.call((c, o) => c.compareReceipts({ leftReceiptId, rightReceiptId }, o));
    if (ctx.json) return writeJson(ctx, CompareReceiptsResponseSchema, res);
    ctx.io.stdout.write(renderComparison(res));
  },
};
