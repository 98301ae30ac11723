/**
 * The console's `/auth/*` routes: who is signed in (`GET /auth/session`), sign in (`GET /auth/sign-in`, and
 * `GET /auth/callback` back from an OpenID Connect provider), sign out (`POST /auth/sign-out`). Local mode signs a
 * browser in as the local user on its first visit, until it signs out.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { redirect, sendJson, sendText } from "./http-replies.js";
import { createOidcClient, signInFailure, type OidcClient, type PendingLogin } from "./oidc-client.js";
import {
  LOGIN_COOKIE,
  SESSION_COOKIE,
  SIGNED_OUT_COOKIE,
  SessionStore,
  clearedCookie,
  cookie,
  cookiesOf,
  currentToken,
  expiryOf,
  type Session,
} from "./sessions.js";
import type { ConsoleSignIn, LocalSignIn } from "./sign-in-settings.js";

/** What `GET /auth/session` answers. */
export interface SessionInfo {
  signedIn: boolean;
  /** The signed-in user's subject and display name. */
  subject?: string;
  name?: string;
  /** How this console signs in: `local`, `oidc`, or `none` (not configured). */
  signIn: "local" | "oidc" | "none";
}

/** How long a sign-in may stay at the provider before it is forgotten. */
const PENDING_LOGIN_MS = 10 * 60_000;
/** At most this many sign-ins in progress (each is a few hundred bytes). */
const MAX_PENDING = 10_000;

/** A path of this console to return to: only a local absolute path, never another site. */
export function safeReturnTo(raw: string | null): string {
  if (!raw || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\") || raw.startsWith("/auth/")) return "/";
  return raw;
}

/** The sign-in side of one console server. */
export class SignInRoutes {
  readonly sessions = new SessionStore();
  private readonly pending = new Map<string, PendingLogin>();
  private readonly oidc?: OidcClient;

  constructor(
    private readonly settings: ConsoleSignIn | undefined,
    /** Whether cookies get `Secure` (the console is reached over https). */
    private readonly secure: (req: IncomingMessage) => boolean,
  ) {
    if (settings?.mode === "oidc") this.oidc = createOidcClient(settings);
  }

  private get mode(): SessionInfo["signIn"] {
    return this.settings?.mode ?? "none";
  }

  /** The live session of the request's cookie, if any. */
  sessionOf(req: IncomingMessage): Session | undefined {
    return this.sessions.get(cookiesOf(req).get(SESSION_COOKIE));
  }

  /** The token to present for the request's session; undefined when not signed in (or the session ran out). */
  async tokenOf(req: IncomingMessage): Promise<string | undefined> {
    const session = this.sessionOf(req);
    if (!session) return undefined;
    const token = await currentToken(session);
    if (token === undefined) this.sessions.destroy(session.id);
    return token;
  }

  private async localSession(settings: LocalSignIn): Promise<Session> {
    const mint = async () => {
      const token = await settings.mintToken();
      return { token, expiresAt: expiryOf(token, Date.now() + 60 * 60_000) };
    };
    return this.sessions.create({ user: { subject: settings.subject, name: settings.subject }, token: await mint(), renew: mint });
  }

  private sessionCookie(req: IncomingMessage, session: Session): string[] {
    const secure = this.secure(req);
    return [cookie(SESSION_COOKIE, session.id, { secure }), clearedCookie(SIGNED_OUT_COOKIE, secure)];
  }

  /** Handles `/auth/<rest>`; true when it answered. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    switch (`${req.method} ${url.pathname}`) {
      case "GET /auth/session":
        await this.session(req, res);
        return true;
      case "GET /auth/sign-in":
        await this.signIn(req, res, safeReturnTo(url.searchParams.get("return_to")));
        return true;
      case "GET /auth/callback":
        await this.callback(req, res, url);
        return true;
      case "POST /auth/sign-out":
        await this.signOut(req, res);
        return true;
      default:
        return false;
    }
  }

  private async session(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let session = this.sessionOf(req);
    if (session && (await currentToken(session)) === undefined) {
      this.sessions.destroy(session.id);
      session = undefined;
    }
    let headers: Record<string, string[]> = {};
    // Local mode signs a browser in on its first visit; after a sign-out it waits for the sign-in button.
    if (!session && this.settings?.mode === "local" && !cookiesOf(req).has(SIGNED_OUT_COOKIE)) {
      session = await this.localSession(this.settings);
      headers = { "set-cookie": this.sessionCookie(req, session) };
    }
    const info: SessionInfo = session
      ? { signedIn: true, subject: session.user.subject, name: session.user.name, signIn: this.mode }
      : { signedIn: false, signIn: this.mode };
    sendJson(res, 200, info, headers);
  }

  private async signIn(req: IncomingMessage, res: ServerResponse, returnTo: string): Promise<void> {
    const settings = this.settings;
    if (!settings) return sendText(res, 503, "sign-in is not configured: set CONSOLE_OIDC_ISSUER, CONSOLE_OIDC_CLIENT_ID and CONSOLE_OIDC_REDIRECT_URI");
    if (settings.mode === "local") {
      const old = this.sessionOf(req);
      if (old) this.sessions.destroy(old.id);
      const session = await this.localSession(settings);
      return redirect(res, returnTo, { "set-cookie": this.sessionCookie(req, session) });
    }
    let started;
    try {
      started = await this.oidc!.start(returnTo);
    } catch (err) {
      return sendText(res, 502, `sign-in failed: the provider ${settings.issuer} cannot be used (${signInFailure(err)})`);
    }
    this.forgetStalePending();
    this.pending.set(started.pending.state, started.pending);
    const secure = this.secure(req);
    redirect(res, started.url.toString(), {
      "set-cookie": [cookie(LOGIN_COOKIE, started.pending.state, { secure, maxAgeSeconds: PENDING_LOGIN_MS / 1000 })],
    });
  }

  private forgetStalePending(): void {
    const cutoff = Date.now() - PENDING_LOGIN_MS;
    for (const [state, p] of this.pending) if (p.startedAt < cutoff || this.pending.size >= MAX_PENDING) this.pending.delete(state);
  }

  private async callback(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!this.oidc) return sendText(res, 404, "not found");
    const state = url.searchParams.get("state") ?? "";
    const pending = this.pending.get(state);
    const secure = this.secure(req);
    const clearLogin = clearedCookie(LOGIN_COOKIE, secure);
    // The state must be one this server issued, to this browser (its login cookie): no one else's sign-in lands here.
    if (!pending || cookiesOf(req).get(LOGIN_COOKIE) !== state || Date.now() - pending.startedAt > PENDING_LOGIN_MS) {
      return sendText(res, 400, "sign-in failed: this sign-in was not started here or took too long; sign in again", undefined, { "set-cookie": [clearLogin] });
    }
    this.pending.delete(state);
    let done;
    try {
      done = await this.oidc.finish(url, pending);
    } catch (err) {
      return sendText(res, 400, `sign-in failed: ${signInFailure(err)}`, undefined, { "set-cookie": [clearLogin] });
    }
    const oidc = this.oidc;
    let refreshToken = done.refreshToken;
    const session = this.sessions.create({
      user: done.user,
      token: done.token,
      idToken: done.idToken,
      ...(refreshToken
        ? {
            renew: async () => {
              const next = await oidc.refresh(refreshToken!);
              if (next.refreshToken) refreshToken = next.refreshToken;
              return next.token;
            },
          }
        : {}),
    });
    redirect(res, pending.returnTo, { "set-cookie": [...this.sessionCookie(req, session), clearLogin] });
  }

  private async signOut(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const session = this.sessionOf(req);
    if (session) this.sessions.destroy(session.id);
    const secure = this.secure(req);
    const host = req.headers.host ?? "localhost";
    const endSessionUrl = this.oidc ? await this.oidc.endSessionUrl(session?.idToken, `${secure ? "https" : "http"}://${host}/`) : undefined;
    sendJson(res, 200, { signedIn: false, ...(endSessionUrl ? { endSessionUrl } : {}) }, {
      "set-cookie": [clearedCookie(SESSION_COOKIE, secure), cookie(SIGNED_OUT_COOKIE, "1", { secure })],
    });
  }
}
