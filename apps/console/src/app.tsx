/** The console's shell and routes: projects, segments, the staleness report, assets and their versions. */
import { NavLink, Navigate, Route, Routes, Link } from "react-router";
import { AssetDirectoryProvider } from "./api/asset-directory.js";
import { ClientsContext, type Clients } from "./api/clients.js";
import { StalenessProvider, useStaleness } from "./api/staleness-index.js";
import { Empty } from "./components/states.js";
import { AssetView } from "./views/asset-view.js";
import { AssetsView } from "./views/assets-view.js";
import { ComfyImportView } from "./views/comfyui-import-view.js";
import { ProjectView, ProjectsView } from "./views/projects-view.js";
import { ReportView } from "./views/report-view.js";
import { SegmentView } from "./views/segment-view.js";

/** The signed-in user the header shows, and how to sign them out. */
export interface SignedInUser {
  name: string;
  subject: string;
  signOut(): void;
}

function UserMenu({ user }: { user: SignedInUser }) {
  return (
    <div className="user-menu">
      <span className="user-name" title={user.subject}>
        {user.name}
      </span>
      <button type="button" onClick={() => user.signOut()}>
        Sign out
      </button>
    </div>
  );
}

function Shell({ user }: { user?: SignedInUser }) {
  const staleness = useStaleness();
  const staleCount = staleness.byId?.size ?? 0;
  return (
    <AssetDirectoryProvider changes={staleness.changes}>
      <header className="topbar">
        <Link to="/" className="brand">
          Provenance
        </Link>
        <nav>
          <NavLink to="/projects">Projects</NavLink>
          <NavLink to="/report">
            Staleness report{staleCount > 0 ? <span className="count-pill">{staleCount}</span> : null}
          </NavLink>
          <NavLink to="/assets">Assets</NavLink>
          <NavLink to="/import/comfyui" title="Import from ComfyUI">ComfyUI</NavLink>
        </nav>
        {user ? <UserMenu user={user} /> : null}
      </header>
      <main className="content">
        <Routes>
          <Route path="/" element={<Navigate to="/projects" replace />} />
          <Route path="/projects" element={<ProjectsView />} />
          <Route path="/projects/:projectId" element={<ProjectView />} />
          <Route path="/projects/:projectId/scenes/:sceneId" element={<ProjectView />} />
          <Route path="/segments/:segmentId" element={<SegmentView />} />
          <Route path="/report" element={<ReportView />} />
          <Route path="/assets" element={<AssetsView />} />
          <Route path="/assets/:assetId" element={<AssetView />} />
          <Route path="/assets/:assetId/versions/:version" element={<AssetView />} />
          <Route path="/import/comfyui" element={<ComfyImportView />} />
          <Route
            path="*"
            element={
              <Empty title="There is no page at this address.">
                Go to the <Link to="/projects">projects</Link>, the <Link to="/report">staleness report</Link> or the <Link to="/assets">assets</Link>.
              </Empty>
            }
          />
        </Routes>
      </main>
    </AssetDirectoryProvider>
  );
}

/**
 * The whole app for `clients`, with `user` in the header when signed in; the caller supplies the router
 * (BrowserRouter in the page, MemoryRouter in tests).
 */
export function App({ clients, user }: { clients: Clients; user?: SignedInUser }) {
  return (
    <ClientsContext.Provider value={clients}>
      <StalenessProvider>
        <Shell user={user} />
      </StalenessProvider>
    </ClientsContext.Provider>
  );
}
