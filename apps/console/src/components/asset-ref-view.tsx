/** One asset input of a receipt: its name linking to the asset, its version linking to the version, its hash. */
import { Link } from "react-router";
import type { AssetRef, StalenessReason } from "@gen/common_pb.js";
import { useAssetDirectory } from "../api/asset-directory.js";
import { HashText } from "./hash-text.js";
import { reasonText } from "./stale-icon.js";

/** Shows `ref`; when `reason` is given the input is marked as the one that made the segment stale. */
export function AssetRefView({ assetRef, reason }: { assetRef: AssetRef | undefined; reason?: StalenessReason }) {
  const assets = useAssetDirectory();
  if (!assetRef || !assetRef.assetId) return <span className="muted">none</span>;
  const asset = assets.get(assetRef.assetId);
  return (
    <span className={`asset-ref${reason ? " asset-ref-stale" : ""}`}>
      <Link to={`/assets/${encodeURIComponent(assetRef.assetId)}`} className="asset-name">
        {asset?.name ?? assetRef.assetId}
      </Link>
      {assetRef.version ? (
        <Link to={`/assets/${encodeURIComponent(assetRef.assetId)}/versions/${assetRef.version}`} className="version-badge">
          v{assetRef.version}
        </Link>
      ) : (
        <span className="version-badge muted">no version</span>
      )}
      <HashText hash={assetRef.contentHash} label={`${asset?.name ?? assetRef.assetId} hash`} />
      {reason ? <span className="stale-note">{reasonText(reason)}</span> : null}
      {!asset && assets.size > 0 ? <span className="muted small"> (untracked)</span> : null}
    </span>
  );
}
