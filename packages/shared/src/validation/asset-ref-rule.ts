/** The rule for provenance.v1.AssetRef, the reference every generation input is made of. */
import { id, int, sha256 } from "./rules.js";
import { message } from "./rule-table.js";
import type { Rule } from "./rule.js";

/** An AssetRef: an `asset_id`, a 64-hex `content_hash`, and any `version` (0 = not given). */
export function assetRef(): Rule {
  return message({ asset_id: id(), content_hash: sha256(), version: int({ min: 0 }) });
}
