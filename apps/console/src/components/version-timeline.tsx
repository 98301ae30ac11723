/** An asset's versions as a timeline: time, uploader, note, usage count; the current one set apart. */
import { Link } from "react-router";
import type { AssetVersion } from "@gen/assets_pb.js";
import { formatTime, plural } from "../lib/format.js";
import { HashText } from "./hash-text.js";

/** The timeline, newest first; `onMakeCurrent` asks to roll back (or forward) to a version. */
export function VersionTimeline({
  assetId,
  versions,
  selectedVersion,
  onMakeCurrent,
}: {
  assetId: string;
  versions: readonly AssetVersion[];
  selectedVersion?: number;
  onMakeCurrent: (v: AssetVersion) => void;
}) {
  const current = versions.find((v) => v.isCurrent)?.version ?? 0;
  const sorted = [...versions].sort((a, b) => b.version - a.version);
  return (
    <ol className="timeline" aria-label="Version history">
      {sorted.map((v) => (
        <li
          key={v.version}
          className={`timeline-item${v.isCurrent ? " current" : ""}${v.version === selectedVersion ? " selected" : ""}`}
          data-testid={`version-${v.version}`}
          aria-current={v.isCurrent ? "true" : undefined}
        >
          <span className="timeline-dot" aria-hidden="true" />
          <div className="timeline-body">
            <div className="timeline-title">
              <Link to={`/assets/${encodeURIComponent(assetId)}/versions/${v.version}`} className="version-link">
                Version {v.version}
              </Link>
              {v.isCurrent ? <span className="badge badge-current-version">Current</span> : null}
              <span className="muted small">{formatTime(v.createdAt)}</span>
            </div>
            <p className="small">
              Uploaded by <strong>{v.uploadedBy || "unknown"}</strong>
              {v.previousVersion ? ` · after v${v.previousVersion}` : ""} · <HashText hash={v.contentHash} label={`v${v.version} hash`} />
            </p>
            {v.note ? <p className="timeline-note">“{v.note}”</p> : <p className="muted small">No note.</p>}
            <p className="small">
              <Link to={`/assets/${encodeURIComponent(assetId)}/versions/${v.version}`}>Used by {plural(v.usageCount, "segment")}</Link>
              {!v.isCurrent ? (
                <button type="button" className="inline-action" onClick={() => onMakeCurrent(v)}>
                  {v.version < current ? `Roll back to v${v.version}` : `Make v${v.version} current`}
                </button>
              ) : null}
            </p>
          </div>
        </li>
      ))}
    </ol>
  );
}
