/** One asset input of a receipt: its name linking to the asset, its version linking to the version, its hash. */
import { Link } from "react-router";
import type { AssetRef, StalenessReason } from "@gen/common_pb.js";
import { useAssetDirectory, useAssetDirectoryLoaded } from "../api/asset-directory.js";
import { HashText } from "./hash-text.js";
import { reasonText } from "./stale-icon.js";

/**
 * Shows `ref`; when `reason` is given the input is marked as the one that made the segment stale. An input whose asset
 * is not registered is shown as untracked (never stale), without links to an asset page that does not exist.
 */
export function AssetRefView({ assetRef, reason }: { assetRef: AssetRef | undefined; reason?: StalenessReason }) {
  const assets = useAssetDirectory();
  const loaded = useAssetDirectoryLoaded();
  if (!assetRef || !assetRef.assetId) return <span className="muted">none</span>;
  const asset = assets.get(assetRef.assetId);
  const untracked = loaded && !asset;
  const name = asset?.name ?? assetRef.assetId;
  return (
    <span className={`asset-ref${reason ? " asset-ref-stale" : ""}${untracked ? " asset-ref-untracked" : ""}`}>
      {untracked ? (
        <span className="asset-name">{name}</span>
      ) : (
        <Link to={`/assets/${encodeURIComponent(assetRef.assetId)}`} className="asset-name">
          {name}
        </Link>
      )}
      {assetRef.version && !untracked ? (
        <Link to={`/assets/${encodeURIComponent(assetRef.assetId)}/versions/${assetRef.version}`} className="version-badge">
          v{assetRef.version}
        </Link>
      ) : assetRef.version ? (
        <span className="version-badge">v{assetRef.version}</span>
      ) : (
        <span className="version-badge muted">no version</span>
      )}
      <HashText hash={assetRef.contentHash} label={`${name} hash`} />
      {reason ? <span className="stale-note">{reasonText(reason)}</span> : null}
      {untracked ? (
        <span className="badge badge-untracked" title="This asset is not registered: its versions are not tracked, so this input is never stale.">
          Untracked
        </span>
      ) : null}
    </span>
  );
}
