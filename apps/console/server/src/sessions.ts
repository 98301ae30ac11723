/**
 * The console's sign-in sessions, kept in this server's memory only: the browser holds nothing but a random session
 * id in an httpOnly, SameSite=Lax cookie; the tokens stay here and go only to the services, on proxied calls.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The cookie holding the session id. */
export const SESSION_COOKIE = "provenance_console_session";
/** Set on sign-out, so local mode does not sign the browser straight back in; the sign-in button clears it. */
export const SIGNED_OUT_COOKIE = "provenance_console_signed_out";
/** Binds an OpenID Connect sign-in in progress to the browser that started it (its `state`). */
export const LOGIN_COOKIE = "provenance_console_login";

/** The signed-in user and the token presented for them. */
export interface SessionUser {
  /** The token's `sub`. */
  readonly subject: string;
  /** What the header shows: the name, e-mail or preferred username the issuer gives, else the subject. */
  readonly name: string;
}

/** A token and when it stops being valid. */
export interface SessionToken {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** One browser's sign-in. */
export interface Session {
  readonly id: string;
  readonly user: SessionUser;
  token: SessionToken;
  /** Gets a new token before the current one ends (local mode re-mints; OIDC uses the refresh token); absent: none. */
  renew?: () => Promise<SessionToken>;
  /** A renewal under way: concurrent calls wait for it rather than each spending the (rotating) refresh token. */
  renewing?: Promise<SessionToken>;
  /** The ID token, kept for the provider's sign-out (`id_token_hint`). */
  idToken?: string;
  lastUsed: number;
}

/** How the store bounds its memory and a session's life. */
export interface SessionStoreOptions {
  /** At most this many sessions; the least recently used is dropped first (default 10,000). */
  maxSessions?: number;
  /** A session unused this long ends (default 12 h). */
  idleMs?: number;
}

/** A new random id: 32 bytes, base64url. */
export function randomId(): string {
  return randomBytes(32).toString("base64url");
}

/** The sessions of one console server. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly maxSessions: number;
  private readonly idleMs: number;

  constructor(opts: SessionStoreOptions = {}) {
    this.maxSessions = opts.maxSessions ?? 10_000;
    this.idleMs = opts.idleMs ?? 12 * 60 * 60 * 1000;
  }

  /** Starts a session for `user`; returns it (its id goes into the cookie). */
  create(fields: Omit<Session, "id" | "lastUsed">): Session {
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const session: Session = { ...fields, id: randomId(), lastUsed: Date.now() };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session of `id`, or undefined (unknown, idle too long). Marks it used. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (Date.now() - session.lastUsed > this.idleMs) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastUsed = Date.now();
    // Re-inserted, so the map's order is least recently used first.
    this.sessions.delete(id);
    this.sessions.set(id, session);
    return session;
  }

  /** Ends the session `id`. */
  destroy(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  /** How many sessions are held. */
  get size(): number {
    return this.sessions.size;
  }
}

/** How much earlier than its end a token is renewed. */
const RENEW_BEFORE_MS = 60_000;

/**
 * The token to present for `session` now: renewed when it ends within a minute and it can be; undefined when it has
 * ended and cannot be renewed (the session is then over).
 */
export async function currentToken(session: Session): Promise<string | undefined> {
  if (Date.now() < session.token.expiresAt - RENEW_BEFORE_MS) return session.token.token;
  if (session.renew) {
    try {
      session.renewing ??= session.renew().finally(() => (session.renewing = undefined));
      session.token = await session.renewing;
      return session.token.token;
    } catch {
      // A refused refresh ends the session once the token has run out.
    }
  }
  return Date.now() < session.token.expiresAt ? session.token.token : undefined;
}

/** The cookies of a request, by name (the first of each). */
export function cookiesOf(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** A Set-Cookie value: httpOnly, SameSite=Lax, path /, Secure when the console is served over https. */
export function cookie(name: string, value: string, opts: { secure: boolean; maxAgeSeconds?: number }): string {
  const parts = [`${name}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax"];
  if (opts.secure) parts.push("Secure");
  if (opts.maxAgeSeconds !== undefined) parts.push(`Max-Age=${opts.maxAgeSeconds}`);
  return parts.join("; ");
}

/** A Set-Cookie value that removes the cookie `name`. */
export function clearedCookie(name: string, secure: boolean): string {
  return cookie(name, "", { secure, maxAgeSeconds: 0 });
}

/** The `exp` of a JWT in ms since the epoch, read without checking it (the services check tokens); fallback when absent. */
export function expiryOf(token: string, fallbackMs: number): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: unknown };
    return typeof payload.exp === "number" ? payload.exp * 1000 : fallbackMs;
  } catch {
    return fallbackMs;
  }
}
