/** Projects, and one project's scenes and segments with their status. */
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { useClients } from "../api/clients.js";
import { loadProjects } from "../api/segment-directory.js";
import { useStaleness } from "../api/staleness-index.js";
import { SegmentStatus } from "../components/segment-status.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { plural, sceneLabel } from "../lib/format.js";
import { useAsync } from "../lib/use-async.js";

function useProjects() {
  const clients = useClients();
  const staleness = useStaleness();
  const state = useAsync(() => loadProjects(clients), [clients]);
  const { reload } = state;
  useEffect(() => {
    if (staleness.changes > 0) reload(true);
  }, [staleness.changes, reload]);
  return state;
}

/** Every project with counts, linking to each. */
export function ProjectsView() {
  const clients = useClients();
  const staleness = useStaleness();
  const projects = useProjects();
  if (projects.loading) return <Loading what="projects" />;
  if (projects.error && !projects.data) return <ErrorState error={projects.error} service="receipts" url={clients.urls.receipts} onRetry={() => projects.reload()} />;
  const list = projects.data!;
  if (list.length === 0)
    return (
      <Empty title="No segments recorded yet.">
        Segments appear once the pipeline records receipts for generations that use registered assets. On a fresh system, run{" "}
        <code>npm run demo</code> to load demo data.
      </Empty>
    );
  return (
    <div>
      <header className="view-header">
        <h1>Projects</h1>
      </header>
      <ul className="card-list">
        {list.map((p) => {
          const stale = p.scenes.flatMap((s) => s.segments).filter((s) => s.active && staleness.byId?.has(s.segmentId)).length;
          return (
            <li key={p.projectId} className="card">
              <Link to={`/projects/${encodeURIComponent(p.projectId)}`} className="card-title">
                {p.projectId}
              </Link>
              <span className="muted">
                {plural(p.scenes.length, "scene")} · {plural(p.segmentCount, "segment")}
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

/** One project's scenes (or one scene) with every segment's status; superseded segments are hidden unless asked for. */
export function ProjectView() {
  const clients = useClients();
  const { projectId = "", sceneId } = useParams();
  const projects = useProjects();
  const [showSuperseded, setShowSuperseded] = useState(false);
  const [query, setQuery] = useState("");
  if (projects.loading) return <Loading what={`project ${projectId}`} />;
  if (projects.error && !projects.data) return <ErrorState error={projects.error} service="receipts" url={clients.urls.receipts} onRetry={() => projects.reload()} />;
  const project = projects.data!.find((p) => p.projectId === projectId);
  if (!project)
    return (
      <Empty title={`No project "${projectId}" has recorded segments.`}>
        Check the address, or pick a project from the <Link to="/projects">project list</Link>.
      </Empty>
    );
  const scenes = sceneId ? project.scenes.filter((s) => s.sceneId === sceneId) : project.scenes;
  const q = query.trim().toLowerCase();
  return (
    <div>
      <header className="view-header">
        <p className="crumbs">
          <Link to="/projects">Projects</Link> / {sceneId ? <Link to={`/projects/${encodeURIComponent(projectId)}`}>{projectId}</Link> : projectId}
          {sceneId ? ` / ${sceneLabel(sceneId)}` : ""}
        </p>
        <h1>{sceneId ? sceneLabel(sceneId) : `Project ${projectId}`}</h1>
        <div className="toolbar">
          <input type="search" placeholder="Find a segment or character" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="Find a segment" />
          <label>
            <input type="checkbox" checked={showSuperseded} onChange={(e) => setShowSuperseded(e.target.checked)} /> Show superseded segments
          </label>
          <Link to={`/report?project=${encodeURIComponent(projectId)}`}>Staleness report</Link>
        </div>
      </header>
      {scenes.length === 0 ? <Empty title={`Scene ${sceneId} has no recorded segments in this project.`} /> : null}
      {scenes.map((scene) => {
        const segs = scene.segments.filter(
          (s) => (showSuperseded || s.active) && (q === "" || s.segmentId.toLowerCase().includes(q) || s.characterName.toLowerCase().includes(q)),
        );
        return (
          <section key={scene.sceneId} className="scene" aria-label={sceneLabel(scene.sceneId)}>
            <h2>
              <Link to={`/projects/${encodeURIComponent(projectId)}/scenes/${encodeURIComponent(scene.sceneId)}`}>{sceneLabel(scene.sceneId)}</Link>
            </h2>
            {segs.length === 0 ? (
              <p className="muted">No segments match.</p>
            ) : (
              <table className="segment-table">
                <thead>
                  <tr>
                    <th>Segment</th>
                    <th>Character</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {segs.map((s) => (
                    <tr key={s.segmentId} className={s.active ? undefined : "inactive"}>
                      <td>
                        <Link to={`/segments/${encodeURIComponent(s.segmentId)}`}>{s.segmentId}</Link>
                      </td>
                      <td>{s.characterName || "—"}</td>
                      <td>
                        <SegmentStatus segmentId={s.segmentId} active={s.active} status={s.status} />
                      </td>
                    </tr>
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
