/** Version history of one asset: the timeline, the segments that used a version, and rolling back with a confirmation. */
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import type { AssetVersion } from "@gen/assets_pb.js";
import { loadAssetUsage, loadVersionChangeData } from "../api/asset-usage.js";
import { useClients } from "../api/clients.js";
import { readAllPages } from "../api/paged.js";
import { useStaleness } from "../api/staleness-index.js";
import { SegmentStatus } from "../components/segment-status.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { VersionChangeDialog, type ImpactState } from "../components/version-change-dialog.js";
import { VersionTimeline } from "../components/version-timeline.js";
import { describeError } from "../lib/describe-error.js";
import { formatTime, kindLabel, plural, roleLabel, sceneLabel } from "../lib/format.js";
import { rollbackImpact } from "../lib/rollback-impact.js";
import { useAddressFlag } from "../lib/use-address-flag.js";
import { useAsync } from "../lib/use-async.js";
import { usesBySegment, type SegmentUse } from "../lib/version-usage.js";

function UsageRow({ use }: { use: SegmentUse }) {
  const project = `/projects/${encodeURIComponent(use.projectId)}`;
  return (
    <tr className={use.active ? undefined : "inactive"}>
      <td className="id-cell">
        <Link to={`/segments/${encodeURIComponent(use.segmentId)}`}>{use.segmentId}</Link>
        <span className="cell-sub small">
          <Link to={`${project}/scenes/${encodeURIComponent(use.sceneId)}`}>{sceneLabel(use.sceneId)}</Link> · <Link to={project}>{use.projectId}</Link>
        </span>
      </td>
      <td>
        {use.roles.map((r) => `${roleLabel(r.role)}${r.weight ? ` · weight ${r.weight}` : ""}`).join(", ")}
        {use.receiptCount > 1 ? <span className="cell-sub small muted">in {use.receiptCount} receipts</span> : null}
      </td>
      <td>{formatTime(use.generationStartedAt)}</td>
      <td>
        <SegmentStatus segmentId={use.segmentId} active={use.active} status={use.status} />
      </td>
    </tr>
  );
}

/** The segments whose receipts used one version: active ones listed, superseded ones behind a row that shows them. */
function VersionUsage({ assetId, version }: { assetId: string; version: number }) {
  const clients = useClients();
  // In the address, like the project view's: a reload or a shared link keeps the superseded rows shown.
  const [showSuperseded, setShowSuperseded] = useAddressFlag("superseded");
  const toggleSuperseded = () => setShowSuperseded(!showSuperseded);
  const usage = useAsync((signal) => loadAssetUsage(clients, assetId, version, signal).then(usesBySegment), [clients, assetId, version]);
  if (usage.loading) return <Loading what={`the segments that used v${version}`} />;
  if (usage.error) return <ErrorState error={usage.error} service="receipts" url={clients.urls.receipts} onRetry={() => usage.reload()} />;
  const { active, superseded } = usage.data!;
  if (active.length + superseded.length === 0)
    return <Empty title={`No segment used v${version}.`}>Receipts that name this version's content will be listed here.</Empty>;
  return (
    <>
      <p className="muted" data-testid="usage-counts">
        {active.length === 0 ? "No active segment uses it now" : `${plural(active.length, "active segment")}`}
        {superseded.length > 0 ? ` · ${superseded.length} superseded` : ""}
      </p>
      <div className="table-scroll">
        <table className="usage-table" aria-label={`Segments that used v${version}`}>
          <thead>
            <tr>
              <th>Segment · scene · project</th>
              <th>Role</th>
              <th>Generated</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {active.map((u) => (
              <UsageRow key={u.segmentId} use={u} />
            ))}
            {superseded.length > 0 ? (
              <tr className="toggle-row">
                <td colSpan={4}>
                  <button type="button" className="link-button" aria-expanded={showSuperseded} onClick={toggleSuperseded}>
                    {showSuperseded ? "Hide" : "Show"} {plural(superseded.length, "superseded segment")}
                  </button>{" "}
                  <span className="muted small">replaced by a regeneration, kept for comparison</span>
                </td>
              </tr>
            ) : null}
            {showSuperseded ? superseded.map((u) => <UsageRow key={u.segmentId} use={u} />) : null}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** The asset page: /assets/:assetId and /assets/:assetId/versions/:version. */
export function AssetView() {
  const { assetId = "", version: versionParam } = useParams();
  const selected = versionParam ? Number(versionParam) : undefined;
  const clients = useClients();
  const staleness = useStaleness();
  const data = useAsync(async () => {
    const [asset, versions] = await Promise.all([
      clients.assets.getAsset({ assetId }),
      readAllPages(async (pageToken) => {
        const res = await clients.assets.listVersions({ assetId, pageSize: 200, pageToken });
        return { items: res.versions, nextPageToken: res.nextPageToken };
      }),
    ]);
    return { asset: asset.asset!, versions };
  }, [clients, assetId]);
  const [confirming, setConfirming] = useState<AssetVersion | undefined>(undefined);
  const [rollback, setRollback] = useState<{ busy: boolean; error?: { what: string; todo: string }; done?: string }>({ busy: false });
  // What a version change would do is counted only while its confirmation is open.
  const changeData = useAsync(
    (signal) => (confirming ? loadVersionChangeData(clients, assetId, signal) : Promise.resolve(undefined)),
    [clients, assetId, confirming?.version],
  );
  const { reload } = data;
  useEffect(() => {
    if (staleness.changes > 0) reload(true);
  }, [staleness.changes, reload]);

  if (data.loading) return <Loading what={`asset ${assetId}`} />;
  if (data.error && !data.data) return <ErrorState error={data.error} service="staleness" url={clients.urls.staleness} onRetry={() => data.reload()} />;
  const { asset, versions } = data.data!;
  const current = versions.find((v) => v.isCurrent);
  let impact: ImpactState = { state: "loading" };
  if (changeData.error) impact = { state: "failed" };
  else if (confirming && changeData.data && !changeData.loading) {
    const reasons = new Map([...(staleness.byId?.values() ?? [])].map((s) => [s.segmentId, s.reasons]));
    impact = {
      state: "ready",
      impact: rollbackImpact({ assetId, targetHash: confirming.contentHash, currentHash: current?.contentHash, ...changeData.data, staleReasons: reasons }),
    };
  }

  const confirm = async (v: AssetVersion) => {
    setRollback({ busy: true });
    try {
      const res = await clients.assets.setCurrentVersion({ assetId, version: v.version });
      setRollback({ busy: false, done: `v${v.version} is now current (was v${res.previousVersion}).` });
      setConfirming(undefined);
      data.reload(true);
      staleness.refresh();
    } catch (err) {
      setRollback({ busy: false, error: describeError(err, "staleness", clients.urls.staleness) });
    }
  };

  return (
    <div className="asset-view">
      <header className="view-header">
        <p className="crumbs">
          <Link to="/assets">Assets</Link> / {asset.name}
        </p>
        <h1>
          {asset.name} <span className="muted small">{kindLabel(asset.kind)}</span>
        </h1>
        <p className="muted">
          {plural(versions.length, "version")} · current: {current ? `v${current.version}` : "none"} · {asset.projectId ? `project ${asset.projectId}` : "shared across projects"}
        </p>
        {rollback.done ? <p className="note" role="status">{rollback.done}</p> : null}
      </header>
      <div className="asset-layout">
        <div>
          <h2>Version history</h2>
          {versions.length === 0 ? (
            <Empty title="No versions published.">Publish one with AssetService.PublishVersion.</Empty>
          ) : (
            <VersionTimeline assetId={assetId} versions={versions} selectedVersion={selected} onMakeCurrent={(v) => setConfirming(v)} />
          )}
        </div>
        <div>
          {selected !== undefined ? (
            <>
              <h2>Segments that used v{selected}</h2>
              <VersionUsage assetId={assetId} version={selected} />
            </>
          ) : (
            <Empty title="Pick a version">Click a version to see the segments whose receipts used it.</Empty>
          )}
        </div>
      </div>
      {confirming ? (
        <VersionChangeDialog
          assetName={asset.name}
          target={confirming}
          current={current}
          impact={impact}
          busy={rollback.busy}
          error={rollback.error}
          onCancel={() => (setConfirming(undefined), setRollback({ busy: false }))}
          onConfirm={() => void confirm(confirming)}
        />
      ) : null}
    </div>
  );
}
