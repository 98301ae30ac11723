/**
 * Entry point: asks the console's server who is signed in and resolves the service URLs, then renders the app under a
 * browser router — or the signed-out page, which a proxied call answered "not signed in" also leads to.
 */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { createClients } from "./api/clients.js";
import { loadServiceUrls } from "./api/service-urls.js";
import { loadSession, signOut, type SessionInfo } from "./api/session.js";
import { App } from "./app.js";
import { SignedOut } from "./components/signed-out.js";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);
const here = () => `${window.location.pathname}${window.location.search}`;

function showSignedOut(session: SessionInfo): void {
  root.render(
    <StrictMode>
      <SignedOut session={{ ...session, signedIn: false }} returnTo={here()} />
    </StrictMode>,
  );
}

const [session, urls] = await Promise.all([loadSession(), loadServiceUrls(window.location)]);
if (!session.signedIn) {
  showSignedOut(session);
} else {
  const user = {
    name: session.name ?? session.subject ?? "",
    subject: session.subject ?? "",
    signOut: () => {
      void signOut().then((providerSignOut) => {
        if (providerSignOut) window.location.assign(providerSignOut);
        else showSignedOut(session);
      });
    },
  };
  root.render(
    <StrictMode>
      <BrowserRouter>
        <App clients={createClients(urls, { onSignedOut: () => showSignedOut(session) })} user={user} />
      </BrowserRouter>
    </StrictMode>,
  );
}
