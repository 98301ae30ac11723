/**
 * A tiny OpenID Connect provider for the console's sign-in test, built on jose: discovery, JWKS, an authorization
 * endpoint with a one-button login page, a token endpoint that checks the client's secret and the PKCE S256
 * verifier, and an end-session endpoint. Its tokens are what the services are told to trust (AUTH_JWKS/AUTH_ISSUER).
 */
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type JWK } from "jose";

/** A person who can sign in at the provider. */
export interface ProviderUser {
  sub: string;
  name: string;
  groups: string[];
}

/** What the provider saw, for the test to check. */
export interface ProviderRecord {
  /** The query of each authorization request. */
  authorizations: URLSearchParams[];
  /** Token requests whose PKCE verifier matched the challenge (S256). */
  pkceVerified: number;
  /** Token requests refused, with the reason. */
  refusals: string[];
  /** End-session requests. */
  signOuts: number;
  /** Refresh-token grants answered. */
  refreshes: number;
}

/** A running provider. */
export interface OidcProvider {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly record: ProviderRecord;
  /** A token of this provider for `sub` (what a pipeline would hold), audience `provenance`. */
  accessToken(sub: string, groups?: string[]): Promise<string>;
  close(): Promise<void>;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string;
  user: ProviderUser;
}

const b64url = (bytes: Buffer) => bytes.toString("base64url");

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(text);
}

/** Starts the provider for one confidential client (`clientId`, `clientSecret`, `redirectUri`), users signing in as `user`. */
export async function startOidcProvider(opts: {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  user: ProviderUser;
  audience: string;
  /** Lifetime of its access tokens (default 3600 s); a short one makes the console refresh. */
  accessTokenSeconds?: number;
}): Promise<OidcProvider> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const kid = b64url(randomBytes(8));
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const codes = new Map<string, PendingCode>();
  const record: ProviderRecord = { authorizations: [], pkceVerified: 0, refusals: [], signOuts: 0, refreshes: 0 };
  const refreshTokens = new Map<string, ProviderUser>();
  const accessSeconds = opts.accessTokenSeconds ?? 3600;
  let issuer = "";

  const sign = (claims: Record<string, unknown>, sub: string, aud: string, seconds = 3600) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
      .setIssuer(issuer)
      .setSubject(sub)
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
      .sign(privateKey);
  const tokensFor = async (user: ProviderUser, nonce?: string) => {
    const refresh = b64url(randomBytes(24));
    refreshTokens.set(refresh, user);
    return {
      token_type: "Bearer",
      expires_in: accessSeconds,
      access_token: await sign({ groups: user.groups }, user.sub, opts.audience, accessSeconds),
      id_token: await sign({ ...(nonce === undefined ? {} : { nonce }), name: user.name, groups: user.groups }, user.sub, opts.clientId),
      refresh_token: refresh,
    };
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", issuer);
      if (url.pathname === "/.well-known/openid-configuration") {
        return json(res, 200, {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          end_session_endpoint: `${issuer}/end-session`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["ES256"],
          code_challenge_methods_supported: ["S256"],
          token_endpoint_auth_methods_supported: ["client_secret_basic"],
          grant_types_supported: ["authorization_code", "refresh_token"],
        });
      }
      if (url.pathname === "/jwks") return json(res, 200, { keys: [publicJwk] });
      if (url.pathname === "/authorize" && req.method === "GET") {
        const q = url.searchParams;
        record.authorizations.push(new URLSearchParams(q));
        if (q.get("client_id") !== opts.clientId || q.get("redirect_uri") !== opts.redirectUri) return json(res, 400, { error: "invalid_request" });
        if (q.get("response_type") !== "code" || q.get("code_challenge_method") !== "S256" || !q.get("code_challenge")) {
          return json(res, 400, { error: "invalid_request", error_description: "code + PKCE S256 required" });
        }
        // A login page with one button, as a provider's would be; its form carries the request on.
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        return res.end(
          `<!doctype html><title>Test provider</title><h1>Test provider</h1><form method="post" action="/authorize">` +
            [...q].map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replace(/"/g, "&quot;")}">`).join("") +
            `<button type="submit">Continue as ${opts.user.name}</button></form>`,
        );
      }
      if (url.pathname === "/authorize" && req.method === "POST") {
        const q = new URLSearchParams(await readBody(req));
        const code = b64url(randomBytes(24));
        codes.set(code, { clientId: q.get("client_id")!, redirectUri: q.get("redirect_uri")!, challenge: q.get("code_challenge")!, nonce: q.get("nonce") ?? "", user: opts.user });
        const back = new URL(q.get("redirect_uri")!);
        back.searchParams.set("code", code);
        back.searchParams.set("state", q.get("state") ?? "");
        back.searchParams.set("iss", issuer);
        res.writeHead(303, { location: back.toString() });
        return res.end();
      }
      if (url.pathname === "/token" && req.method === "POST") {
        const refuse = (reason: string) => {
          record.refusals.push(reason);
          json(res, 400, { error: "invalid_grant", error_description: reason });
        };
        const basic = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString("utf8");
        const [id, secret] = basic.split(":").map((p) => decodeURIComponent(p));
        if (id !== opts.clientId || secret !== opts.clientSecret) return refuse("bad client credentials");
        const q = new URLSearchParams(await readBody(req));
        if (q.get("grant_type") === "refresh_token") {
          const user = refreshTokens.get(q.get("refresh_token") ?? "");
          // Rotated: each refresh token is good once.
          refreshTokens.delete(q.get("refresh_token") ?? "");
          if (!user) return refuse("unknown refresh token");
          record.refreshes += 1;
          return json(res, 200, await tokensFor(user));
        }
        const pending = codes.get(q.get("code") ?? "");
        codes.delete(q.get("code") ?? "");
        if (!pending || q.get("grant_type") !== "authorization_code") return refuse("unknown code");
        if (q.get("redirect_uri") !== pending.redirectUri) return refuse("redirect_uri differs");
        const verifier = q.get("code_verifier") ?? "";
        if (b64url(createHash("sha256").update(verifier).digest()) !== pending.challenge) return refuse("PKCE verifier does not match");
        record.pkceVerified += 1;
        return json(res, 200, await tokensFor(pending.user, pending.nonce));
      }
      if (url.pathname === "/end-session") {
        record.signOuts += 1;
        res.writeHead(303, { location: url.searchParams.get("post_logout_redirect_uri") ?? "/" });
        return res.end();
      }
      json(res, 404, { error: "not_found" });
    })().catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: "server_error", error_description: String(err) });
    });
  });
  // On both loopback addresses, named "localhost": another site than the console's 127.0.0.1, so the browser's
  // return from the provider is a cross-site navigation, as with a real provider.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "::", () => resolve());
  }).catch(() => new Promise<void>((r) => server.listen(0, "127.0.0.1", r)));
  issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    record,
    accessToken: (sub, groups = []) => sign({ groups }, sub, opts.audience),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
