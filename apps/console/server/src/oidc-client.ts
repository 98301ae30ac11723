/**
 * The console as an OpenID Connect relying party (oauth4webapi): discovery, the authorization code flow with PKCE
 * (S256), state and nonce, the token exchange, refresh, and the provider's sign-out URL.
 */
import * as oauth from "oauth4webapi";
import { expiryOf, type SessionToken, type SessionUser } from "./sessions.js";
import type { OidcSignIn } from "./sign-in-settings.js";

/** A sign-in that has been sent to the provider and not yet come back. */
export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** Where in the console the browser goes once signed in. */
  readonly returnTo: string;
  readonly startedAt: number;
}

/** What a finished sign-in yields. */
export interface SignedIn {
  readonly user: SessionUser;
  readonly token: SessionToken;
  readonly idToken?: string;
  /** Undefined when the provider gave no refresh token. */
  readonly refreshToken?: string;
}

/** The relying party for one provider. */
export interface OidcClient {
  /** Starts a sign-in: the pending state to keep, and the provider URL to send the browser to. */
  start(returnTo: string): Promise<{ pending: PendingLogin; url: URL }>;
  /** Finishes it from the callback URL; throws with a short reason when the provider's answer does not hold. */
  finish(callbackUrl: URL, pending: PendingLogin): Promise<SignedIn>;
  /** A new token from `refreshToken`. */
  refresh(refreshToken: string): Promise<{ token: SessionToken; refreshToken?: string }>;
  /** The provider's sign-out URL (RP-initiated logout), when it has one. */
  endSessionUrl(idToken: string | undefined, postLogoutRedirect: string): Promise<string | undefined>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** Plain http is allowed only to a provider on this machine (tests, a local Dex). */
function insecureAllowed(issuer: URL): boolean {
  return issuer.protocol === "http:" && LOOPBACK.has(issuer.hostname);
}

function userOf(claims: oauth.IDToken): SessionUser {
  const pick = (key: string) => (typeof claims[key] === "string" && (claims[key] as string).trim() !== "" ? (claims[key] as string) : undefined);
  return { subject: claims.sub, name: pick("name") ?? pick("email") ?? pick("preferred_username") ?? claims.sub };
}

/** The relying party for `settings`; the discovery document is fetched on first use and kept. */
export function createOidcClient(settings: OidcSignIn): OidcClient {
  const issuer = new URL(settings.issuer);
  const insecure = insecureAllowed(issuer);
  const options = insecure ? { [oauth.allowInsecureRequests]: true } : {};
  const client: oauth.Client = { client_id: settings.clientId };
  const auth = settings.clientSecret ? oauth.ClientSecretBasic(settings.clientSecret) : oauth.None();
  let discovered: Promise<oauth.AuthorizationServer> | undefined;
  const server = () => {
    discovered ??= (async () => oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...options })))();
    // A failed discovery is tried again at the next sign-in.
    discovered.catch(() => (discovered = undefined));
    return discovered;
  };
  const tokenOf = (res: oauth.TokenEndpointResponse, claims: oauth.IDToken | undefined): SessionToken => {
    const token = settings.forwardToken === "id_token" ? res.id_token : res.access_token;
    if (!token) throw new Error(`the provider's answer has no ${settings.forwardToken}`);
    const fallback = res.expires_in !== undefined ? Date.now() + res.expires_in * 1000 : (claims?.exp ?? 0) * 1000;
    return { token, expiresAt: expiryOf(token, fallback) };
  };
  return {
    async start(returnTo) {
      const as = await server();
      if (!as.authorization_endpoint) throw new Error("the provider has no authorization_endpoint");
      const pending: PendingLogin = {
        state: oauth.generateRandomState(),
        nonce: oauth.generateRandomNonce(),
        codeVerifier: oauth.generateRandomCodeVerifier(),
        returnTo,
        startedAt: Date.now(),
      };
      const url = new URL(as.authorization_endpoint);
      url.searchParams.set("client_id", settings.clientId);
      url.searchParams.set("redirect_uri", settings.redirectUri);
      url.searchParams.set("response_type", "code");
      url.searchParams.set("scope", settings.scopes.join(" "));
      url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(pending.codeVerifier));
      url.searchParams.set("code_challenge_method", "S256");
      url.searchParams.set("state", pending.state);
      url.searchParams.set("nonce", pending.nonce);
      return { pending, url };
    },
    async finish(callbackUrl, pending) {
      const as = await server();
      const params = oauth.validateAuthResponse(as, client, callbackUrl, pending.state);
      const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, settings.redirectUri, pending.codeVerifier, options);
      const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: pending.nonce, requireIdToken: true });
      const claims = oauth.getValidatedIdTokenClaims(result)!;
      return {
        user: userOf(claims),
        token: tokenOf(result, claims),
        idToken: result.id_token,
        ...(result.refresh_token ? { refreshToken: result.refresh_token } : {}),
      };
    },
    async refresh(refreshToken) {
      const as = await server();
      const response = await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, options);
      const result = await oauth.processRefreshTokenResponse(as, client, response);
      return { token: tokenOf(result, oauth.getValidatedIdTokenClaims(result)), ...(result.refresh_token ? { refreshToken: result.refresh_token } : {}) };
    },
    async endSessionUrl(idToken, postLogoutRedirect) {
      const as = await server().catch(() => undefined);
      if (!as?.end_session_endpoint) return undefined;
      const url = new URL(as.end_session_endpoint);
      url.searchParams.set("client_id", settings.clientId);
      url.searchParams.set("post_logout_redirect_uri", postLogoutRedirect);
      if (idToken) url.searchParams.set("id_token_hint", idToken);
      return url.toString();
    },
  };
}

/** A short, safe description of why a sign-in failed (no token or code in it). */
export function signInFailure(err: unknown): string {
  if (err instanceof oauth.AuthorizationResponseError) return `the provider refused: ${err.error}${err.error_description ? ` (${err.error_description})` : ""}`;
  if (err instanceof oauth.ResponseBodyError) return `the provider's token endpoint refused: ${err.error}${err.error_description ? ` (${err.error_description})` : ""}`;
  return (err as Error).message.split("\n")[0] ?? "unknown error";
}
