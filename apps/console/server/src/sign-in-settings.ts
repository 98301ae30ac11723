/** How the console signs people in: as the local issuer's user (npm start), or through an OpenID Connect provider. */

/** Local mode: every browser is signed in as the local issuer's user, with tokens the server mints. */
export interface LocalSignIn {
  readonly mode: "local";
  /** The local user's subject, shown in the header. */
  readonly subject: string;
  /** A fresh token for that user. */
  mintToken(): Promise<string>;
}

/** Which token of the provider's answer the proxy presents to the services. */
export type ForwardedToken = "access_token" | "id_token";

/** OpenID Connect authorization code flow with PKCE (S256), from the `CONSOLE_OIDC_*` variables. */
export interface OidcSignIn {
  readonly mode: "oidc";
  /** `CONSOLE_OIDC_ISSUER`: the provider's issuer URL (its discovery document is at /.well-known/openid-configuration). */
  readonly issuer: string;
  /** `CONSOLE_OIDC_CLIENT_ID`. */
  readonly clientId: string;
  /** `CONSOLE_OIDC_CLIENT_SECRET`: a confidential client's secret (client_secret_basic); unset: a public client. */
  readonly clientSecret?: string;
  /** `CONSOLE_OIDC_REDIRECT_URI`: this console's `/auth/callback` as the provider knows it. */
  readonly redirectUri: string;
  /** `CONSOLE_OIDC_SCOPES`: space- or comma-separated (default `openid profile email groups offline_access`). */
  readonly scopes: readonly string[];
  /** `CONSOLE_OIDC_FORWARD_TOKEN`: `access_token` (default) or `id_token`, whichever carries `aud` = AUTH_AUDIENCE. */
  readonly forwardToken: ForwardedToken;
}

/** One of the ways to sign in. */
export type ConsoleSignIn = LocalSignIn | OidcSignIn;

/** The scopes asked for when `CONSOLE_OIDC_SCOPES` is unset. */
export const DEFAULT_OIDC_SCOPES: readonly string[] = ["openid", "profile", "email", "groups", "offline_access"];

/** A bad `CONSOLE_OIDC_*` value; the message starts with the variable's name. */
export class SignInSettingsError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "SignInSettingsError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function httpUrl(env: Env, name: string): string {
  const raw = env[name]?.trim() ?? "";
  if (raw === "") throw new SignInSettingsError(name, "is required with CONSOLE_OIDC_ISSUER");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SignInSettingsError(name, `"${raw}" is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new SignInSettingsError(name, `must be an https:// URL, got "${raw}"`);
  return raw;
}

/**
 * The OpenID Connect settings from `CONSOLE_OIDC_ISSUER`, `CONSOLE_OIDC_CLIENT_ID`, `CONSOLE_OIDC_CLIENT_SECRET`,
 * `CONSOLE_OIDC_REDIRECT_URI`, `CONSOLE_OIDC_SCOPES` and `CONSOLE_OIDC_FORWARD_TOKEN`; undefined when
 * `CONSOLE_OIDC_ISSUER` is unset. Throws {@link SignInSettingsError} naming the variable.
 */
export function oidcSettingsFromEnv(env: Env): OidcSignIn | undefined {
  if ((env.CONSOLE_OIDC_ISSUER?.trim() ?? "") === "") return undefined;
  const issuer = httpUrl(env, "CONSOLE_OIDC_ISSUER");
  const clientId = env.CONSOLE_OIDC_CLIENT_ID?.trim() ?? "";
  if (clientId === "") throw new SignInSettingsError("CONSOLE_OIDC_CLIENT_ID", "is required with CONSOLE_OIDC_ISSUER");
  const redirectUri = httpUrl(env, "CONSOLE_OIDC_REDIRECT_URI");
  if (!new URL(redirectUri).pathname.endsWith("/auth/callback")) {
    throw new SignInSettingsError("CONSOLE_OIDC_REDIRECT_URI", `must be the console's /auth/callback, e.g. https://console.example.com/auth/callback, got "${redirectUri}"`);
  }
  const rawScopes = env.CONSOLE_OIDC_SCOPES?.trim() ?? "";
  const scopes = rawScopes === "" ? DEFAULT_OIDC_SCOPES : rawScopes.split(/[\s,]+/).filter((s) => s !== "");
  if (!scopes.includes("openid")) throw new SignInSettingsError("CONSOLE_OIDC_SCOPES", `must include openid, got "${rawScopes}"`);
  const forward = env.CONSOLE_OIDC_FORWARD_TOKEN?.trim() || "access_token";
  if (forward !== "access_token" && forward !== "id_token") {
    throw new SignInSettingsError("CONSOLE_OIDC_FORWARD_TOKEN", `must be access_token or id_token, got "${forward}"`);
  }
  const secret = env.CONSOLE_OIDC_CLIENT_SECRET?.trim() ?? "";
  return { mode: "oidc", issuer, clientId, ...(secret === "" ? {} : { clientSecret: secret }), redirectUri, scopes, forwardToken: forward };
}
