/** The rule for provenance.v1.AssetRef, the reference every generation input is made of. */
import { id, int, sha256 } from "./rules.js";
import { message } from "./rule-table.js";
import type { Rule } from "./rule.js";

/**
 * The largest asset version there can be: versions are PostgreSQL `integer` columns in every service (AssetService
 * numbers them 1, 2, …), so a uint32 past it names no version and cannot be stored.
 */
export const MAX_ASSET_VERSION = 2_147_483_647;

/** An AssetRef: an `asset_id`, a 64-hex `content_hash`, and a `version` up to {@link MAX_ASSET_VERSION} (0 = not given). */
export function assetRef(): Rule {
  return message({ asset_id: id(), content_hash: sha256(), version: int({ min: 0, max: MAX_ASSET_VERSION }) });
}
