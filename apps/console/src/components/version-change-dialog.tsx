/** The confirmation before an asset's current version changes: what happens to which segments, counted when known. */
import type { AssetVersion } from "@gen/assets_pb.js";
import { plural } from "../lib/format.js";
import type { RollbackImpact } from "../lib/rollback-impact.js";

/** How far the count of affected segments has got. */
export type ImpactState = { state: "loading" } | { state: "failed" } | { state: "ready"; impact: RollbackImpact };

const verb = (n: number, one: string, many: string) => (n === 1 ? one : many);

function ImpactList({ impact, target, current, assetName }: { impact: RollbackImpact; target: number; current: number | undefined; assetName: string }) {
  const fresh = impact.freshAgain.length;
  const stale = impact.becomeStale.length;
  const currentLabel = current ? `v${current}` : "the current version";
  return (
    <ul className="impact-list" data-testid="version-change-impact">
      <li data-testid="impact-fresh">
        {fresh === 0
          ? `No active segment was made from v${target}: none becomes fresh again.`
          : `${plural(fresh, "segment")} made from v${target} ${verb(fresh, "becomes", "become")} fresh again` +
            (impact.freshAgainStillStale > 0 ? ` (${impact.freshAgainStillStale} of them still stale because of other inputs).` : ".")}
      </li>
      <li data-testid="impact-stale">
        {stale === 0
          ? `No active segment was made from ${currentLabel}: none becomes stale.`
          : `${plural(stale, "segment")} made from ${currentLabel} ${verb(stale, "becomes", "become")} stale and ${verb(stale, "shows", "show")} up in the staleness report.`}
      </li>
      {impact.stayStale.length > 0 ? (
        <li data-testid="impact-other">
          {plural(impact.stayStale.length, "segment")} made from other versions {verb(impact.stayStale.length, "stays", "stay")} stale.
        </li>
      ) : null}
      {impact.superseded > 0 ? (
        <li data-testid="impact-superseded">
          {plural(impact.superseded, "superseded segment")} that used {assetName} {verb(impact.superseded, "stays", "stay")} superseded: changing versions does not
          bring back segments a regeneration replaced.
        </li>
      ) : null}
    </ul>
  );
}

/** The dialog; `onConfirm` makes `target` current. */
export function VersionChangeDialog({
  assetName,
  target,
  current,
  impact,
  busy,
  error,
  onCancel,
  onConfirm,
}: {
  assetName: string;
  target: AssetVersion;
  current: AssetVersion | undefined;
  impact: ImpactState;
  busy: boolean;
  error?: { what: string; todo: string };
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const currentLabel = current ? `v${current.version}` : "the current version";
  return (
    <div className="dialog-backdrop">
      <div className="dialog" role="dialog" aria-modal="true" aria-label="Confirm version change">
        <h2>
          {current && target.version < current.version ? "Roll back" : "Change current version"}: make v{target.version} of {assetName} current?
        </h2>
        {impact.state === "ready" ? (
          <ImpactList impact={impact.impact} target={target.version} current={current?.version} assetName={assetName} />
        ) : (
          <>
            <p>
              Active segments whose current receipts used v{target.version} become fresh again; those made from {currentLabel} become stale and show up in
              the staleness report. Superseded segments stay superseded.
            </p>
            <p className="muted small" role="status">
              {impact.state === "loading" ? "Counting the segments this affects…" : "The affected segments could not be counted."}
            </p>
          </>
        )}
        <p>Nothing is deleted, and you can change it back at any time.</p>
        {error ? (
          <div className="state state-error" role="alert">
            <strong>{error.what}</strong>
            <p>{error.todo}</p>
          </div>
        ) : null}
        <div className="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="primary" disabled={busy} onClick={onConfirm}>
            {busy ? "Changing…" : `Make v${target.version} current`}
          </button>
        </div>
      </div>
    </div>
  );
}
