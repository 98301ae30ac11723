/**
 * Who is signed in to the console, as its server says (`/auth/session`): the session itself lives on the server; the
 * page holds no token, only the server's httpOnly cookie.
 */

/** The signed-in user, or how to sign in. */
export interface SessionInfo {
  signedIn: boolean;
  subject?: string;
  name?: string;
  /** How this console signs in: as npm start's local user, through OpenID Connect, or not at all (not configured). */
  signIn: "local" | "oidc" | "none";
}

/** Asks the console's server who is signed in (local mode signs a first visit in as the local user). */
export async function loadSession(fetchImpl: typeof fetch = fetch): Promise<SessionInfo> {
  const res = await fetchImpl("/auth/session", { cache: "no-store", credentials: "same-origin" });
  if (!res.ok) return { signedIn: false, signIn: "none" };
  return (await res.json()) as SessionInfo;
}

/** Where the sign-in button goes: the server's sign-in, coming back to `returnTo` (a path of this console). */
export function signInUrl(returnTo: string): string {
  return `/auth/sign-in?return_to=${encodeURIComponent(returnTo.startsWith("/") ? returnTo : "/")}`;
}

/** Ends the session on the server; resolves to the provider's sign-out page when there is one to visit too. */
export async function signOut(fetchImpl: typeof fetch = fetch): Promise<string | undefined> {
  const res = await fetchImpl("/auth/sign-out", { method: "POST", credentials: "same-origin" });
  const body = (await res.json().catch(() => ({}))) as { endSessionUrl?: string };
  return body.endSessionUrl;
}
