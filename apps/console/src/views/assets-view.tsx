/** Every asset, by kind, with its current version. */
import { Link } from "react-router";
import { useClients } from "../api/clients.js";
import { readAllPages } from "../api/paged.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { kindLabel, plural } from "../lib/format.js";
import { useAsync } from "../lib/use-async.js";

/** The asset list. */
export function AssetsView() {
  const clients = useClients();
  const assets = useAsync(
    () =>
      readAllPages(async (pageToken) => {
        const res = await clients.assets.listAssets({ pageSize: 500, pageToken });
        return { items: res.assets, nextPageToken: res.nextPageToken };
      }),
    [clients],
  );
  if (assets.loading) return <Loading what="assets" />;
  if (assets.error) return <ErrorState error={assets.error} service="staleness" url={clients.urls.staleness} onRetry={() => assets.reload()} />;
  const list = [...assets.data!].sort((a, b) => a.kind - b.kind || a.name.localeCompare(b.name));
  if (list.length === 0)
    return (
      <Empty title="No assets are registered.">
        Assets are registered with AssetService.RegisterAsset and get versions with PublishVersion; <code>npm run demo</code> registers a set.
      </Empty>
    );
  return (
    <div>
      <header className="view-header">
        <h1>Assets</h1>
      </header>
      <table className="asset-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Kind</th>
            <th>Current</th>
            <th>Versions</th>
            <th>Project</th>
          </tr>
        </thead>
        <tbody>
          {list.map((a) => (
            <tr key={a.assetId}>
              <td>
                <Link to={`/assets/${encodeURIComponent(a.assetId)}`}>{a.name || a.assetId}</Link>
              </td>
              <td>{kindLabel(a.kind)}</td>
              <td>{a.currentVersion ? `v${a.currentVersion}` : "none"}</td>
              <td>{plural(a.versionCount, "version")}</td>
              <td>{a.projectId || <span className="muted">shared</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
