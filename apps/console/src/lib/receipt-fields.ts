/** A receipt's inputs as labelled text, and the field-by-field comparison of two receipts. */
import type { AssetRef, Receipt } from "@gen/common_pb.js";

/** One compared field: its label, both values as text, and whether they differ. */
export interface FieldDiff {
  label: string;
  before: string;
  after: string;
  changed: boolean;
}

/** An asset ref as "anna_lora v2 (3f9a1c0d…)"-style text, with the full hash; "—" when absent. */
export function refText(ref: AssetRef | undefined, names: ReadonlyMap<string, string> = new Map()): string {
  if (!ref || !ref.assetId) return "—";
  const name = names.get(ref.assetId) ?? ref.assetId;
  return `${name}${ref.version ? ` v${ref.version}` : ""} · ${ref.contentHash}`;
}

/** The additional parameters as an object (empty when there are none). */
export function additionalParams(receipt: Receipt): Record<string, unknown> {
  return receipt.additionalParams ?? {}; // protobuf-es represents google.protobuf.Struct as a plain JSON object
}

function paramsText(receipt: Receipt): string {
  const params = additionalParams(receipt);
  const keys = Object.keys(params).sort();
  return keys.length === 0 ? "—" : keys.map((k) => `${k}=${JSON.stringify(params[k])}`).join(", ");
}

/** Compares every input and output field of `before` (the superseded receipt) with `after`, in panel order. */
export function compareReceipts(before: Receipt, after: Receipt, names: ReadonlyMap<string, string> = new Map()): FieldDiff[] {
  const rows: [string, (r: Receipt) => string][] = [
    ["Source image", (r) => refText(r.sourceImage, names)],
    ["Variant image", (r) => refText(r.variantImage, names)],
    ["Workflow", (r) => refText(r.workflow, names)],
    ["Workflow version", (r) => r.workflowVersion || "—"],
    ["Model", (r) => refText(r.model, names)],
  ];
  const loraCount = Math.max(before.loras.length, after.loras.length);
  for (let i = 0; i < loraCount; i++) {
    rows.push([`LoRA ${i + 1}`, (r) => (r.loras[i] ? `${refText(r.loras[i]!.asset, names)} · weight ${r.loras[i]!.weight}` : "—")]);
  }
  rows.push(
    ["Prompt", (r) => r.promptText || "—"],
    ["Negative prompt", (r) => r.negativePrompt || "—"],
    ["Seed", (r) => r.seed.toString()],
    ["CFG", (r) => String(r.cfgScale)],
    ["Steps", (r) => String(r.steps)],
    ["Sampler", (r) => r.sampler || "—"],
    ["Resolution", (r) => `${r.resolutionWidth}×${r.resolutionHeight}`],
    ["Other parameters", paramsText],
    ["Inputs hash", (r) => r.inputsHash || "—"],
    ["Output hash", (r) => r.outputHash || "—"],
  );
  return rows.map(([label, text]) => {
    const a = text(before);
    const b = text(after);
    return { label, before: a, after: b, changed: a !== b };
  });
}
