/**
 * The asset map: file name as the prompt writes it → the platform's asset id and the file's content hash
 * (`{"<file name>": {"asset_id": …, "content_hash": …, "version"?: …}}`), so a receipt names assets, not paths.
 */
import { createHash } from "node:crypto";
import { ComfyReceiptError } from "./errors.js";
import { isJsonObject, type ComfyJson } from "./lossless-json.js";

/** One entry of the map. */
export interface MappedAsset {
  readonly assetId: string;
  /** 64 lowercase hex digits. */
  readonly contentHash: string;
  /** The version the map says this is; 0 = not given. */
  readonly version: number;
}

/** File name → asset. */
export type AssetMap = ReadonlyMap<string, MappedAsset>;

/** Prefix of the asset id given to a file missing from the map when untracked files are allowed. */
export const UNTRACKED_ASSET_PREFIX = "comfyui-untracked:";

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Reads and checks a parsed MAP.json. */
export function readAssetMap(json: ComfyJson): AssetMap {
  if (!isJsonObject(json)) throw new ComfyReceiptError("assets", 'the asset map must be a JSON object {"<file name>": {"asset_id": …, "content_hash": …}}');
  const map = new Map<string, MappedAsset>();
  for (const [file, entry] of Object.entries(json)) {
    const bad: (why: string) => never = (why) => {
      throw new ComfyReceiptError("assets", `entry ${JSON.stringify(file)}: ${why}`);
    };
    if (!isJsonObject(entry)) bad('must be an object {"asset_id": …, "content_hash": …}');
    const unknown = Object.keys(entry).filter((k) => !["asset_id", "content_hash", "version"].includes(k));
    if (unknown.length > 0) bad(`unknown key ${JSON.stringify(unknown[0])} (expected asset_id, content_hash, version)`);
    const { asset_id: assetId, content_hash: contentHash, version = 0 } = entry;
    if (typeof assetId !== "string" || assetId.trim() === "") bad("asset_id must be a non-empty string");
    if (typeof contentHash !== "string" || !HEX64.test(contentHash)) bad("content_hash must be a SHA-256 of 64 hex digits");
    if (typeof version !== "number" || !Number.isInteger(version) || version < 0 || version > 2 ** 32 - 1) bad("version must be a whole number of at least 0");
    map.set(file, { assetId, contentHash: contentHash.toLowerCase(), version });
  }
  return map;
}

/** How files missing from the map are treated. */
export interface AssetResolution {
  readonly map: AssetMap;
  /** Give a missing file an untracked placeholder instead of failing. */
  readonly allowUntracked: boolean;
  /** Files that got a placeholder, in the order they were asked for (filled in by {@link resolveAsset}). */
  readonly untracked: string[];
}

/**
 * The asset of `file`, or, with `allowUntracked`, a placeholder: asset id `comfyui-untracked:<file>` (registered with
 * no AssetService, so never stale) and content hash SHA-256 of `comfyui-untracked:<file>` — a hash of the name, not
 * of the bytes, so it changes when the file is renamed and not when its content does. `where` names the node.
 */
export function resolveAsset(resolution: AssetResolution, file: string, where: string, nodeId?: string): MappedAsset {
  const found = resolution.map.get(file);
  if (found !== undefined) return found;
  if (!resolution.allowUntracked) {
    throw new ComfyReceiptError("assets", `${where}: file ${JSON.stringify(file)} is not in the asset map`, nodeId);
  }
  if (!resolution.untracked.includes(file)) resolution.untracked.push(file);
  const assetId = `${UNTRACKED_ASSET_PREFIX}${file}`;
  return { assetId, contentHash: createHash("sha256").update(assetId, "utf8").digest("hex"), version: 0 };
}
