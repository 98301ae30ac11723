/** CompareReceipts' fields as the console shows them: asset names for ids, "—" for what a side does not have. */
import type { AssetRef } from "@gen/common_pb.js";
import { InputRole } from "@gen/common_pb.js";
import type { ReceiptFieldComparison } from "@gen/receipts_pb.js";
import type { FieldDiff } from "./receipt-fields.js";

function inputText(text: string, ref: AssetRef | undefined, weight: number, role: InputRole, names: ReadonlyMap<string, string>): string {
  if (text === "" || !ref) return text === "" ? "—" : text;
  const name = names.get(ref.assetId) ?? ref.assetId;
  const hash = ref.contentHash || "unknown";
  return `${name}${ref.version ? ` v${ref.version}` : ""} · ${hash}${role === InputRole.LORA ? ` · weight ${weight}` : ""}`;
}

/** One row per compared field, in the server's order. */
export function comparisonRows(fields: readonly ReceiptFieldComparison[], names: ReadonlyMap<string, string> = new Map()): FieldDiff[] {
  return fields.map((f) => {
    if (f.role === InputRole.UNSPECIFIED) return { label: f.label, before: f.left || "—", after: f.right || "—", changed: f.changed };
    return {
      label: f.label,
      before: inputText(f.left, f.leftAsset, f.leftWeight, f.role, names),
      after: inputText(f.right, f.rightAsset, f.rightWeight, f.role, names),
      changed: f.changed,
    };
  });
}
