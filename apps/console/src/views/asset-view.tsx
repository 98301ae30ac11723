/** Version history of one asset: the timeline, the segments that used a version, and rolling back with a confirmation. */
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import type { AssetVersion } from "@gen/assets_pb.js";
import { useClients } from "../api/clients.js";
import { readAllPages } from "../api/paged.js";
import { useStaleness } from "../api/staleness-index.js";
import { SegmentStatus } from "../components/segment-status.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { VersionTimeline } from "../components/version-timeline.js";
import { describeError } from "../lib/describe-error.js";
import { formatTime, kindLabel, plural, roleLabel } from "../lib/format.js";
import { useAsync } from "../lib/use-async.js";

function VersionUsage({ assetId, version }: { assetId: string; version: number }) {
  const clients = useClients();
  const usage = useAsync(
    () =>
      readAllPages(async (pageToken) => {
        const res = await clients.receipts.getAssetUsage({ assetId, version, pageSize: 500, pageToken });
        return { items: res.usages, nextPageToken: res.nextPageToken };
      }),
    [clients, assetId, version],
  );
  if (usage.loading) return <Loading what={`the segments that used v${version}`} />;
  if (usage.error) return <ErrorState error={usage.error} service="receipts" url={clients.urls.receipts} onRetry={() => usage.reload()} />;
  const list = usage.data!;
  if (list.length === 0) return <Empty title={`No segment used v${version}.`}>Receipts that name this version's content will be listed here.</Empty>;
  return (
    <table className="usage-table" aria-label={`Segments that used v${version}`}>
      <thead>
        <tr>
          <th>Segment</th>
          <th>Scene</th>
          <th>Project</th>
          <th>Role</th>
          <th>Generated</th>
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        {list.map((u) => (
          <tr key={`${u.receiptId}/${u.role}/${u.position}`}>
            <td>
              <Link to={`/segments/${encodeURIComponent(u.segmentId)}`}>{u.segmentId}</Link>
            </td>
            <td>
              <Link to={`/projects/${encodeURIComponent(u.projectId)}/scenes/${encodeURIComponent(u.sceneId)}`}>{u.sceneId}</Link>
            </td>
            <td>
              <Link to={`/projects/${encodeURIComponent(u.projectId)}`}>{u.projectId}</Link>
            </td>
            <td>
              {roleLabel(u.role)}
              {u.weight ? ` · weight ${u.weight}` : ""}
            </td>
            <td>{formatTime(u.generationStartedAt)}</td>
            <td>
              <SegmentStatus segmentId={u.segmentId} active={u.segmentActive} status={u.status} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
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
  const { reload } = data;
  useEffect(() => {
    if (staleness.changes > 0) reload(true);
  }, [staleness.changes, reload]);

  if (data.loading) return <Loading what={`asset ${assetId}`} />;
  if (data.error && !data.data) return <ErrorState error={data.error} service="staleness" url={clients.urls.staleness} onRetry={() => data.reload()} />;
  const { asset, versions } = data.data!;
  const current = versions.find((v) => v.isCurrent);

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
        <div className="dialog-backdrop">
          <div className="dialog" role="dialog" aria-modal="true" aria-label="Confirm version change">
            <h2>
              {current && confirming.version < current.version ? "Roll back" : "Change current version"}: make v{confirming.version} of {asset.name} current?
            </h2>
            <p>
              Segments made from v{confirming.version} become current again; segments made from {current ? `v${current.version}` : "other versions"} become stale and
              show up in the staleness report. Nothing is deleted, and you can change it back at any time.
            </p>
            {rollback.error ? (
              <div className="state state-error" role="alert">
                <strong>{rollback.error.what}</strong>
                <p>{rollback.error.todo}</p>
              </div>
            ) : null}
            <div className="dialog-actions">
              <button type="button" onClick={() => (setConfirming(undefined), setRollback({ busy: false }))}>
                Cancel
              </button>
              <button type="button" className="primary" disabled={rollback.busy} onClick={() => void confirm(confirming)}>
                {rollback.busy ? "Changing…" : `Make v${confirming.version} current`}
              </button>
            </div>
          </div>
        </div>
      ) : null}
    </div>
  );
}
