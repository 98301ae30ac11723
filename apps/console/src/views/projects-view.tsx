/** Projects, and one project's scenes and segments with their status. */
import { useEffect, useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { useClients } from "../api/clients.js";
import { loadProjects, loadSegments } from "../api/segment-directory.js";
import { useStaleness } from "../api/staleness-index.js";
import { CoveragePanel } from "../components/coverage-panel.js";
import { SegmentStatus } from "../components/segment-status.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { plural, sceneLabel, shotNumber } from "../lib/format.js";
import { countSegments, groupScenes, matchesQuery, segmentRows, type SegmentRow } from "../lib/segment-index.js";
import { useAddressFlag } from "../lib/use-address-flag.js";
import { useAsync, type AsyncState } from "../lib/use-async.js";

/** Reloads `state` quietly whenever staleness changes (a version published, a regeneration finished). */
function useReloadOnChanges(state: AsyncState<unknown>) {
  const staleness = useStaleness();
  const { reload } = state;
  useEffect(() => {
    if (staleness.changes > 0) reload(true);
  }, [staleness.changes, reload]);
}

/** "9 segments · 8 superseded": active segments are the count; superseded ones are named apart, never added in. */
function SegmentCounts({ active, superseded }: { active: number; superseded: number }) {
  return (
    <>
      {plural(active, "segment")}
      {superseded > 0 ? <span className="superseded-count"> · {superseded} superseded</span> : null}
    </>
  );
}

/** Every project with counts, linking to each. */
export function ProjectsView() {
  const clients = useClients();
  const staleness = useStaleness();
  const projects = useAsync((signal) => loadProjects(clients, signal), [clients]);
  useReloadOnChanges(projects);
  const staleByProject = useMemo(() => {
    const out = new Map<string, number>();
    for (const s of staleness.byId?.values() ?? []) out.set(s.projectId, (out.get(s.projectId) ?? 0) + 1);
    return out;
  }, [staleness.byId]);
  if (projects.loading) return <Loading what="projects" />;
  if (projects.error && !projects.data) return <ErrorState error={projects.error} service="receipts" url={clients.urls.receipts} onRetry={() => projects.reload()} />;
  const list = projects.data!;
  if (list.length === 0)
    return (
      <Empty title="No segments recorded yet.">
        Segments appear as soon as the pipeline records a receipt for them. On a fresh system, run <code>npm run demo</code> to load demo data.
      </Empty>
    );
  return (
    <div>
      <header className="view-header">
        <h1>Projects</h1>
      </header>
      <ul className="card-list">
        {list.map((p) => {
          const stale = staleByProject.get(p.projectId) ?? 0;
          const href = `/projects/${encodeURIComponent(p.projectId)}`;
          return (
            <li key={p.projectId} className="card" data-testid={`project-${p.projectId}`}>
              <Link to={href} className="card-title">
                {p.projectId}
              </Link>
              <span className="muted">
                {plural(p.sceneCount, "scene")} · {plural(p.activeSegmentCount, "segment")}
                {p.supersededSegmentCount > 0 ? (
                  <>
                    {" · "}
                    <Link to={`${href}?superseded=1`} className="superseded-count" title="Segments replaced by a regeneration, kept for comparison">
                      {p.supersededSegmentCount} superseded
                    </Link>
                  </>
                ) : null}
              </span>
              {stale > 0 ? (
                <Link to={`/report?project=${encodeURIComponent(p.projectId)}`} className="badge badge-stale">
                  {plural(stale, "stale segment")}
                </Link>
              ) : (
                <span className="badge badge-current">Up to date</span>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function SegmentTableRow({ row }: { row: SegmentRow }) {
  return (
    <tr className={row.active ? undefined : "inactive"}>
      <td className="num">{shotNumber(row.sequenceIndex)}</td>
      <td className="id-cell">
        <Link to={`/segments/${encodeURIComponent(row.segmentId)}`}>{row.segmentId}</Link>
      </td>
      <td>{row.characterName || "—"}</td>
      <td>
        <SegmentStatus segmentId={row.segmentId} active={row.active} status={row.status} />
        {!row.active && row.supersededBy ? (
          <span className="small muted">
            {" "}
            by <Link to={`/segments/${encodeURIComponent(row.supersededBy)}`}>{row.supersededBy}</Link>
          </span>
        ) : null}
      </td>
    </tr>
  );
}

/**
 * One project's scenes (or one scene) with every active segment's status. Superseded segments are counted apart and
 * listed only when asked for (`?superseded=1`); segments appear whatever their inputs, registered as assets or not.
 */
export function ProjectView() {
  const clients = useClients();
  const { projectId = "", sceneId } = useParams();
  const [showSuperseded, setShowSuperseded] = useAddressFlag("superseded");
  const [query, setQuery] = useState("");
  const data = useAsync(
    async (signal) => {
      const [listings, report] = await Promise.all([
        loadSegments(clients, { projectId, sceneId, includeSuperseded: true }, signal),
        // Only for the untracked-input count: the segments show without it.
        clients.staleness.getStalenessReport({ projectId }, { signal }).catch(() => undefined),
      ]);
      return { scenes: groupScenes(segmentRows(listings)), untrackedInputs: report?.untrackedInputs ?? 0 };
    },
    [clients, projectId, sceneId],
  );
  useReloadOnChanges(data);

  const projectHref = `/projects/${encodeURIComponent(projectId)}`;
  const crumbs = (
    <p className="crumbs">
      <Link to="/projects">Projects</Link> / {sceneId ? <Link to={projectHref}>{projectId}</Link> : projectId}
      {sceneId ? ` / ${sceneLabel(sceneId)}` : ""}
    </p>
  );
  const title = <h1>{sceneId ? sceneLabel(sceneId) : `Project ${projectId}`}</h1>;
  if (data.loading)
    return (
      <div>
        <header className="view-header">
          {crumbs}
          {title}
        </header>
        <Loading what={sceneId ? `${sceneLabel(sceneId)} of project ${projectId}` : `project ${projectId}`} />
      </div>
    );
  if (data.error && !data.data) return <ErrorState error={data.error} service="receipts" url={clients.urls.receipts} onRetry={() => data.reload()} />;
  const { scenes, untrackedInputs } = data.data!;
  const counts = countSegments(scenes);

  return (
    <div>
      <header className="view-header">
        {crumbs}
        {title}
        {counts.active + counts.superseded > 0 ? (
          <p className="muted" data-testid="project-counts">
            {sceneId ? "" : `${plural(scenes.length, "scene")} · `}
            <SegmentCounts active={counts.active} superseded={counts.superseded} />
          </p>
        ) : null}
        {sceneId ? null : <CoveragePanel projectId={projectId} />}
        {untrackedInputs > 0 && !sceneId ? (
          <p className="note" data-testid="untracked-note">
            {plural(untrackedInputs, "input")} of this project's segments {untrackedInputs === 1 ? "names an asset" : "name assets"} that {untrackedInputs === 1 ? "is" : "are"} not
            registered: shown as <em>untracked</em> on the segments' receipts, and never stale.
          </p>
        ) : null}
        <div className="toolbar">
          <input type="search" placeholder="Find a segment or character" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="Find a segment" />
          {counts.superseded > 0 ? (
            <label>
              <input type="checkbox" checked={showSuperseded} onChange={(e) => setShowSuperseded(e.target.checked)} /> Show {counts.superseded} superseded{" "}
              {counts.superseded === 1 ? "segment" : "segments"}
            </label>
          ) : null}
          <Link to={`/report?project=${encodeURIComponent(projectId)}`}>Staleness report</Link>
        </div>
      </header>
      {scenes.length === 0 ? (
        <Empty title={sceneId ? `${sceneLabel(sceneId)} of project ${projectId} has no recorded segments.` : `Project ${projectId} has no recorded segments.`}>
          Segments appear here as soon as the pipeline records a receipt for them. Check the address, or pick a project from the{" "}
          <Link to="/projects">project list</Link>.
        </Empty>
      ) : null}
      {scenes.map((scene) => {
        const rows = [...scene.active, ...(showSuperseded ? scene.superseded : [])].filter((r) => matchesQuery(r, query));
        return (
          <section key={scene.sceneId} className="scene" aria-label={sceneLabel(scene.sceneId)}>
            <h2>
              <Link to={`${projectHref}/scenes/${encodeURIComponent(scene.sceneId)}`}>{sceneLabel(scene.sceneId)}</Link>{" "}
              <span className="muted small scene-counts">
                <SegmentCounts active={scene.active.length} superseded={scene.superseded.length} />
              </span>
            </h2>
            {rows.length === 0 ? (
              <p className="muted">
                {query.trim() !== ""
                  ? "No segments match."
                  : `No active segments: ${plural(scene.superseded.length, "superseded segment")} (tick “Show superseded” to list them).`}
              </p>
            ) : (
              <table className="segment-table" aria-label={`Segments of ${sceneLabel(scene.sceneId)}`}>
                <thead>
                  <tr>
                    <th className="num" title="Counted from 1, as the prompts number shots">
                      Shot
                    </th>
                    <th>Segment</th>
                    <th>Character</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <SegmentTableRow key={r.segmentId} row={r} />
                  ))}
                </tbody>
              </table>
            )}
          </section>
        );
      })}
    </div>
  );
}
