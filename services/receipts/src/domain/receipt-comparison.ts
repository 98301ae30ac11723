/**
 * CompareReceipts' rule: the field-level differences of two receipts, every compared field in a fixed order — inputs
 * by role then position, workflow version, prompts, parameters, additional_params by key, hashes — changed or not.
 * A LEGACY receipt's unknown fields (its missing_fields) read "unknown". Pure, no I/O.
 */
import { create, type JsonValue } from "@bufbuild/protobuf";
import {
  AssetRefSchema,
  InputRole,
  canonicalJson,
  ReceiptFieldComparisonSchema,
  type AssetRef,
  type Receipt,
  type ReceiptFieldComparison,
} from "@provenance/shared";

/** What a side shows for a value its LEGACY receipt does not know. */
export const UNKNOWN = "unknown";

/** The parts of an input that can differ, as named in changed_parts. */
export type InputPart = "asset_id" | "version" | "content_hash" | "weight";

/** The field-level differences of two receipts. */
export interface ReceiptComparison {
  fields: ReceiptFieldComparison[];
  /** How many of `fields` differ. */
  changedFields: number;
}

/** One side of an input slot: absent (no input there), unknown (a LEGACY receipt does not know it), or a reference. */
interface InputSide {
  ref: AssetRef | undefined;
  weight: number | undefined;
  unknown: boolean;
  hashUnknown: boolean;
}

function isMissing(r: Receipt, path: string): boolean {
  return r.missingFields.includes(path);
}

function refText(side: InputSide): string {
  if (side.unknown) return UNKNOWN;
  const ref = side.ref;
  if (!ref || ref.assetId === "") return "";
  const version = ref.version ? ` v${ref.version}` : "";
  const hash = side.hashUnknown || ref.contentHash === "" ? UNKNOWN : ref.contentHash;
  const weight = side.weight === undefined ? "" : ` weight ${side.weight}`;
  return `${ref.assetId}${version} ${hash}${weight}`;
}

function changedParts(left: InputSide, right: InputSide): InputPart[] {
  const l = left.ref;
  const r = right.ref;
  const parts: InputPart[] = [];
  if ((l?.assetId ?? "") !== (r?.assetId ?? "")) parts.push("asset_id");
  if ((l?.version ?? 0) !== (r?.version ?? 0)) parts.push("version");
  const lh = left.hashUnknown ? UNKNOWN : (l?.contentHash ?? "");
  const rh = right.hashUnknown ? UNKNOWN : (r?.contentHash ?? "");
  if (lh !== rh) parts.push("content_hash");
  if ((left.weight ?? 0) !== (right.weight ?? 0)) parts.push("weight");
  return parts;
}

function singleSide(r: Receipt, path: string, ref: AssetRef | undefined): InputSide {
  return { ref, weight: undefined, unknown: isMissing(r, path), hashUnknown: isMissing(r, `${path}.content_hash`) };
}

function loraSide(r: Receipt, i: number): InputSide {
  const lora = r.loras[i];
  const path = `loras[${i}]`;
  return {
    ref: lora?.asset,
    weight: lora?.weight,
    // An unknown stack: every position is unknown, as is a listed LoRA without its asset.
    unknown: (lora === undefined && isMissing(r, "loras")) || isMissing(r, path),
    hashUnknown: isMissing(r, `${path}.content_hash`),
  };
}

function inputField(field: string, label: string, role: InputRole, position: number, left: InputSide, right: InputSide): ReceiptFieldComparison {
  const l = refText(left);
  const r = refText(right);
  const changed = l !== r;
  const present = (s: InputSide) => (s.ref && s.ref.assetId !== "" ? create(AssetRefSchema, s.ref) : undefined);
  return create(ReceiptFieldComparisonSchema, {
    field,
    label,
    left: l,
    right: r,
    changed,
    role,
    position,
    leftAsset: present(left),
    rightAsset: present(right),
    leftWeight: left.weight ?? 0,
    rightWeight: right.weight ?? 0,
    changedParts: changed ? changedParts(left, right) : [],
  });
}

function valueField(field: string, label: string, left: string, right: string): ReceiptFieldComparison {
  return create(ReceiptFieldComparisonSchema, { field, label, left, right, changed: left !== right });
}

/** A scalar field's text on one side: "unknown" when its LEGACY receipt lists it as missing. */
function scalar(r: Receipt, path: string, text: (r: Receipt) => string): string {
  return isMissing(r, path) ? UNKNOWN : text(r);
}

/** An additional parameter as canonical JSON text ("" when that side has no such key, "unknown" when its params are unknown). */
function paramText(r: Receipt, key: string): string {
  if (isMissing(r, "additional_params")) return UNKNOWN;
  const params = (r.additionalParams ?? {}) as Record<string, JsonValue>;
  return Object.hasOwn(params, key) ? (canonicalJson(params[key]) ?? "") : "";
}

/** Compares every field of `left` with `right`, in the fixed order of CompareReceiptsResponse.fields. */
export function compareReceipts(left: Receipt, right: Receipt): ReceiptComparison {
  const fields: ReceiptFieldComparison[] = [
    inputField("source_image", "Source image", InputRole.SOURCE_IMAGE, 0,
      singleSide(left, "source_image", left.sourceImage), singleSide(right, "source_image", right.sourceImage)),
    inputField("variant_image", "Variant image", InputRole.VARIANT_IMAGE, 0,
      singleSide(left, "variant_image", left.variantImage), singleSide(right, "variant_image", right.variantImage)),
    inputField("workflow", "Workflow", InputRole.WORKFLOW, 0,
      singleSide(left, "workflow", left.workflow), singleSide(right, "workflow", right.workflow)),
    inputField("model", "Model", InputRole.MODEL, 0, singleSide(left, "model", left.model), singleSide(right, "model", right.model)),
  ];
  const loras = Math.max(left.loras.length, right.loras.length);
  for (let i = 0; i < loras; i++) {
    fields.push(inputField(`loras[${i}]`, `LoRA ${i + 1}`, InputRole.LORA, i, loraSide(left, i), loraSide(right, i)));
  }
  const scalars: [string, string, (r: Receipt) => string][] = [
    ["workflow_version", "Workflow version", (r) => r.workflowVersion],
    ["prompt_text", "Prompt", (r) => r.promptText],
    ["negative_prompt", "Negative prompt", (r) => r.negativePrompt],
    ["cfg_scale", "CFG", (r) => String(r.cfgScale)],
    ["seed", "Seed", (r) => r.seed.toString()],
    ["steps", "Steps", (r) => String(r.steps)],
    ["sampler", "Sampler", (r) => r.sampler],
    ["resolution_width", "Width", (r) => String(r.resolutionWidth)],
    ["resolution_height", "Height", (r) => String(r.resolutionHeight)],
  ];
  for (const [path, label, text] of scalars) fields.push(valueField(path, label, scalar(left, path, text), scalar(right, path, text)));
  const keys = new Set([...Object.keys(left.additionalParams ?? {}), ...Object.keys(right.additionalParams ?? {})]);
  for (const key of [...keys].sort()) {
    fields.push(valueField(`additional_params.${key}`, `Parameter ${key}`, paramText(left, key), paramText(right, key)));
  }
  fields.push(
    valueField("inputs_hash", "Inputs hash", scalar(left, "inputs_hash", (r) => r.inputsHash), scalar(right, "inputs_hash", (r) => r.inputsHash)),
    valueField("output_hash", "Output hash", scalar(left, "output_hash", (r) => r.outputHash), scalar(right, "output_hash", (r) => r.outputHash)),
  );
  return { fields, changedFields: fields.filter((f) => f.changed).length };
}
