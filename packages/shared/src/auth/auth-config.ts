/** The identity-and-access variables, read once and typed, with errors that name the variable. */
import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "../config/index.js";

/** The audience tokens must carry when `AUTH_AUDIENCE` is unset. */
export const DEFAULT_AUDIENCE = "provenance";

/** Where the keys that sign tokens come from: an issuer's JWKS endpoint, or a local JWK set file. */
export type JwksSource = { readonly kind: "url"; readonly url: URL } | { readonly kind: "file"; readonly path: string };

/** What a service needs to check callers, from `AUTH_JWKS`, `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_POLICY`, `SERVICE_TOKEN_FILE`. */
export interface AuthConfig {
  /** `AUTH_JWKS`: an `https://`/`http://` URL, or a path (made absolute against the working directory). */
  readonly jwks: JwksSource;
  /** `AUTH_ISSUER`: the `iss` every token must carry. */
  readonly issuer: string;
  /** `AUTH_AUDIENCE`: the `aud` every token must carry (default {@link DEFAULT_AUDIENCE}). */
  readonly audience: string;
  /** `AUTH_POLICY`: the absolute path of the grants file (JSON or YAML). */
  readonly policyFile: string;
  /** `SERVICE_TOKEN_FILE`: the token this service presents on calls made on its own behalf, when it makes any. */
  readonly serviceTokenFile?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string, hint: string): string {
  const raw = env[name]?.trim() ?? "";
  if (raw === "") throw new ConfigError(name, `is required: ${hint}`);
  return raw;
}

function filePath(name: string, raw: string): string {
  if (raw.includes("\0")) throw new ConfigError(name, "must be a file path");
  return isAbsolute(raw) ? raw : resolve(raw);
}

function readJwks(env: Env): JwksSource {
  const raw = required(env, "AUTH_JWKS", "the issuer's JWKS URL (https://…) or the path of a JWK set file (npm start sets it to its local issuer's keys)");
  if (/^https?:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError("AUTH_JWKS", `"${raw}" is not a URL`);
    }
    return { kind: "url", url };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw new ConfigError("AUTH_JWKS", `must be an https:// or http:// URL or a file path, got "${raw}"`);
  }
  return { kind: "file", path: filePath("AUTH_JWKS", raw) };
}

/**
 * Reads the variables a service checks callers with. `AUTH_JWKS`, `AUTH_ISSUER` and `AUTH_POLICY` are required (there
 * is no mode without checks); `AUTH_AUDIENCE` defaults to `provenance`; `SERVICE_TOKEN_FILE` is optional. Only the
 * values are checked here; the files are read by {@link createServiceAuth}. Throws {@link ConfigError}.
 */
export function loadAuthConfig(env: Env = process.env): AuthConfig {
  const jwks = readJwks(env);
  const issuer = required(env, "AUTH_ISSUER", "the iss claim of the tokens to accept, e.g. https://dex.example.com");
  const audienceRaw = env.AUTH_AUDIENCE;
  const audience = audienceRaw === undefined || audienceRaw.trim() === "" ? DEFAULT_AUDIENCE : audienceRaw.trim();
  const policyFile = filePath("AUTH_POLICY", required(env, "AUTH_POLICY", 'the path of the grants file (JSON or YAML: {"grants": [...]})'));
  const token = env.SERVICE_TOKEN_FILE?.trim() ?? "";
  return {
    jwks,
    issuer,
    audience,
    policyFile,
    ...(token === "" ? {} : { serviceTokenFile: filePath("SERVICE_TOKEN_FILE", token) }),
  };
}

/** Reads `SERVICE_TOKEN_FILE` for a process that only calls services (the pipeline simulator); required. */
export function loadServiceTokenFile(env: Env = process.env): string {
  return filePath("SERVICE_TOKEN_FILE", required(env, "SERVICE_TOKEN_FILE", "the path of the token this process presents (a projected service-account token in Kubernetes)"));
}
