/** The page a signed-out console shows: a sign-in button, or why there is none. */
import { signInUrl, type SessionInfo } from "../api/session.js";

/** Shown instead of the app while nobody is signed in. */
export function SignedOut({ session, returnTo }: { session: SessionInfo; returnTo: string }) {
  return (
    <>
      <header className="topbar">
        <span className="brand">Provenance</span>
      </header>
      <main className="content">
        <div className="state signed-out">
          <h1>Signed out</h1>
          {session.signIn === "none" ? (
            <p>
              This console has no way to sign in configured: set <code>CONSOLE_OIDC_ISSUER</code>, <code>CONSOLE_OIDC_CLIENT_ID</code> and{" "}
              <code>CONSOLE_OIDC_REDIRECT_URI</code> on its server.
            </p>
          ) : (
            <>
              <p>{session.signIn === "local" ? "Sign in as the local user of this machine's npm start." : "Sign in with your organisation's account."}</p>
              <a className="button primary" href={signInUrl(returnTo)}>
                Sign in
              </a>
            </>
          )}
        </div>
      </main>
    </>
  );
}
