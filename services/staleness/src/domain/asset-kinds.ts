/** Asset kinds and input roles as stored, and their API enums: pure, no I/O. */
import { AssetKind, InputRole } from "@provenance/shared";

/** An asset kind as stored in `staleness.assets.kind`. */
export type AssetKindName = "MODEL" | "LORA" | "WORKFLOW" | "SOURCE_IMAGE" | "VARIANT_IMAGE";

/** An input role as stored in `staleness.segment_inputs.role` (the same names the receipts service uses). */
export type InputRoleName = "source_image" | "variant_image" | "workflow" | "model" | "lora";

const KIND_NAMES: Record<AssetKindName, AssetKind> = {
  MODEL: AssetKind.MODEL,
  LORA: AssetKind.LORA,
  WORKFLOW: AssetKind.WORKFLOW,
  SOURCE_IMAGE: AssetKind.SOURCE_IMAGE,
  VARIANT_IMAGE: AssetKind.VARIANT_IMAGE,
};

const ROLE_NAMES: Record<InputRoleName, InputRole> = {
  source_image: InputRole.SOURCE_IMAGE,
  variant_image: InputRole.VARIANT_IMAGE,
  workflow: InputRole.WORKFLOW,
  model: InputRole.MODEL,
  lora: InputRole.LORA,
};

/** The API enum of a stored kind. */
export function assetKindOf(name: AssetKindName): AssetKind {
  return KIND_NAMES[name];
}

/** The stored name of an API kind; throws on UNSPECIFIED (the rule tables reject it before this runs). */
export function assetKindName(kind: AssetKind): AssetKindName {
  const found = (Object.keys(KIND_NAMES) as AssetKindName[]).find((k) => KIND_NAMES[k] === kind);
  if (!found) throw new Error(`asset kind ${kind} has no stored name`);
  return found;
}

/** The API enum of a stored role. */
export function inputRoleOf(name: InputRoleName): InputRole {
  return ROLE_NAMES[name];
}
