/** Verifies bearer JWTs against a JWKS (a remote endpoint or a local file) with jose, and turns them into principals. */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import { ConfigError } from "../config/index.js";
import type { JwksSource } from "./auth-config.js";
import { createPrincipal, unauthenticated, MAX_TOKEN_BYTES, type Principal } from "./principal.js";
import { watchFile } from "./watched-file.js";

/** The only signature algorithms accepted; `none` and HMAC (HS*) never are. */
export const ACCEPTED_ALGORITHMS = ["RS256", "ES256", "EdDSA"] as const;

/** The default leeway for `exp` and `nbf`, in seconds, for clocks that drift apart a little. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 30;

/** How {@link createTokenVerifier} checks tokens. */
export interface TokenVerifierOptions {
  jwks: JwksSource;
  /** Required `iss`. */
  issuer: string;
  /** Required `aud` (one of the token's audiences). */
  audience: string;
  /** Leeway for `exp`/`nbf` in seconds (default {@link DEFAULT_CLOCK_TOLERANCE_SEC}). */
  clockToleranceSec?: number;
  /**
   * For a remote JWKS: no new fetch sooner than `cooldownMs` after the last (jose's default 30 s; an unknown `kid`
   * after that fetches again, which is how a rotated key is picked up), keys kept at most `cacheMaxAgeMs` (default
   * 10 min), each fetch bounded by `timeoutMs` (default 5 s).
   */
  remote?: { cooldownMs?: number; cacheMaxAgeMs?: number; timeoutMs?: number };
  /** For a JWKS file: how often it is compared with what was read (default 1 s; an unknown `kid` re-reads at once). */
  fileCheckIntervalMs?: number;
  /** Called when a changed JWKS file cannot be used (the previous keys stay). */
  onKeysReloadError?: (err: unknown) => void;
  /**
   * How many verified tokens are remembered (default {@link DEFAULT_VERIFIED_TOKEN_CACHE}; 0 remembers none). A token
   * seen again skips the signature and claim checks only while it is unexpired and the JWKS still resolves its header
   * to the very key that verified it (see docs/decisions/0009-verified-token-cache.md).
   */
  verifiedTokenCacheSize?: number;
}

/** How many verified tokens a verifier remembers by default: a service sees a handful of callers, each with one token at a time. */
export const DEFAULT_VERIFIED_TOKEN_CACHE = 1024;

/** Checks one token. */
export interface TokenVerifier {
  /** The principal of a valid token; throws UNAUTHENTICATED with a short reason, or UNAVAILABLE when remote keys cannot be fetched. */
  verify(token: string): Promise<Principal>;
}

/** Thrown by a key getter when the keys themselves could not be obtained (not the token's fault). */
class KeysUnavailable extends Error {}

const NO_KEY_CODES = new Set([joseErrors.JWKSNoMatchingKey.code, joseErrors.JWKSMultipleMatchingKeys.code]);

function parseJwksFile(text: string, path: string): JWTVerifyGetKey {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError("AUTH_JWKS", `${path} is not JSON: ${(err as Error).message}`);
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new ConfigError("AUTH_JWKS", `${path} is not a JWK set: expected {"keys": [...]}`);
  for (const [i, key] of keys.entries()) {
    if (typeof key !== "object" || key === null || typeof (key as { kty?: unknown }).kty !== "string") {
      throw new ConfigError("AUTH_JWKS", `${path}: keys[${i}] is not a JWK (no kty)`);
    }
    if ((key as { d?: unknown }).d !== undefined) throw new ConfigError("AUTH_JWKS", `${path}: keys[${i}] is a private key; publish only public keys`);
  }
  return createLocalJWKSet(doc as JSONWebKeySet);
}

async function keyGetterFor(opts: TokenVerifierOptions): Promise<JWTVerifyGetKey> {
  if (opts.jwks.kind === "url") {
    const remote = createRemoteJWKSet(opts.jwks.url, {
      cooldownDuration: opts.remote?.cooldownMs ?? 30_000,
      cacheMaxAge: opts.remote?.cacheMaxAgeMs ?? 10 * 60_000,
      timeoutDuration: opts.remote?.timeoutMs ?? 5_000,
    });
    return async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        if (err instanceof joseErrors.JOSEError && NO_KEY_CODES.has(err.code)) throw err;
        throw new KeysUnavailable("identity provider keys unavailable", { cause: err });
      }
    };
  }
  const path = opts.jwks.path;
  const file = await watchFile(path, (text) => parseJwksFile(text, path), {
    checkIntervalMs: opts.fileCheckIntervalMs,
    onReloadError: opts.onKeysReloadError,
  }).catch((err: unknown) => {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError("AUTH_JWKS", `cannot read ${path}: ${(err as Error).message}`);
  });
  return async (header, token) => {
    const keys = await file.current();
    try {
      return await keys(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JOSEError && NO_KEY_CODES.has(err.code))) throw err;
      // A kid we do not know may be a key just rotated in: look at the file once more before refusing.
      const fresh = await file.refresh();
      return fresh(header, token);
    }
  };
}

function failureOf(err: unknown): ConnectError {
  if (err instanceof KeysUnavailable) {
    return new ConnectError("identity provider keys unavailable, retry later", Code.Unavailable, undefined, undefined, err.cause);
  }
  if (!(err instanceof joseErrors.JOSEError)) return unauthenticated("malformed");
  switch (err.code) {
    case joseErrors.JWTExpired.code:
      return unauthenticated("expired");
    case joseErrors.JWTClaimValidationFailed.code: {
      const { claim, reason } = err as joseErrors.JWTClaimValidationFailed;
      if (claim === "aud") return unauthenticated("wrong_audience");
      if (claim === "iss") return unauthenticated("wrong_issuer");
      if (claim === "nbf" && reason === "check_failed") return unauthenticated("not_yet_valid");
      if (reason === "missing") return unauthenticated("malformed", `no ${claim} claim`);
      return unauthenticated("malformed", `bad ${claim} claim`);
    }
    case joseErrors.JOSEAlgNotAllowed.code:
      return unauthenticated("algorithm_not_allowed");
    case joseErrors.JWKSNoMatchingKey.code:
    case joseErrors.JWKSMultipleMatchingKeys.code:
      return unauthenticated("unknown_key");
    case joseErrors.JWSSignatureVerificationFailed.code:
      return unauthenticated("bad_signature");
    default:
      return unauthenticated("malformed");
  }
}

/** Largest `sub` accepted: it becomes `recorded_by`, an id-sized field. */
const MAX_SUBJECT_BYTES = 512;

function identityOf(payload: JWTPayload): { subject: string; groups: string[] } {
  const sub = payload.sub;
  if (typeof sub !== "string" || sub === "") throw unauthenticated("malformed", "no sub claim");
  if (Buffer.byteLength(sub) > MAX_SUBJECT_BYTES) throw unauthenticated("malformed", "sub claim too long");
  const raw = (payload as { groups?: unknown }).groups;
  if (raw === undefined) return { subject: sub, groups: [] };
  // A groups claim that is not a list of strings is refused rather than ignored: it means the issuer is not mapping
  // groups the way the policy assumes, and silently dropping it would hide that.
  if (!Array.isArray(raw) || !raw.every((g) => typeof g === "string")) throw unauthenticated("malformed", "groups claim must be an array of strings");
  return { subject: sub, groups: raw as string[] };
}

/**
 * Creates a verifier for `opts`: the signature against the JWKS (algorithms {@link ACCEPTED_ALGORITHMS} only, the
 * header's `kid` must name a known key), `iss`, `aud`, a required `exp` and `sub`, `nbf` when present, and `groups`
 * (absent, or an array of strings — anything else is refused as malformed). A JWKS file is read now (a
 * {@link ConfigError} naming `AUTH_JWKS` when it cannot be used) and again when it changes; a remote JWKS is fetched
 * on first use and cached.
 */
export async function createTokenVerifier(opts: TokenVerifierOptions): Promise<TokenVerifier> {
  const getKey = await keyGetterFor(opts);
  const clockTolerance = opts.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  const verified = new VerifiedTokens(opts.verifiedTokenCacheSize ?? DEFAULT_VERIFIED_TOKEN_CACHE);
  return {
    async verify(token) {
      if (token.length > MAX_TOKEN_BYTES) throw unauthenticated("malformed", "too long");
      const seen = verified.get(token, clockTolerance);
      if (seen) {
        // The key is looked up as on every call (a JWKS file re-read, a remote set refetched, a kid rotated out);
        // only when it is still the key that verified this exact token are the signature and claims not checked again.
        let key: unknown;
        try {
          key = await getKey(seen.header, seen.input);
        } catch (err) {
          verified.delete(token);
          throw failureOf(err);
        }
        if (key === seen.key) return seen.principal;
        verified.delete(token);
      }
      let payload: JWTPayload;
      let protectedHeader: JWTHeaderParameters;
      let key: unknown;
      const keyOf: JWTVerifyGetKey = async (header, input) => (key = await getKey(header, input));
      try {
        ({ payload, protectedHeader } = await jwtVerify(token, keyOf, {
          issuer: opts.issuer,
          audience: opts.audience,
          algorithms: [...ACCEPTED_ALGORITHMS],
          requiredClaims: ["exp", "sub"],
          clockTolerance,
        }));
      } catch (err) {
        throw failureOf(err);
      }
      const who = identityOf(payload);
      const principal = createPrincipal({ ...who, issuer: opts.issuer, expiresAt: new Date(payload.exp! * 1000) }, token);
      verified.add(token, { principal, header: protectedHeader, input: flattenedOf(token), key, exp: payload.exp!, nbf: payload.nbf });
      return principal;
    },
  };
}

/** The token's parts as jose hands them to a key getter. */
function flattenedOf(token: string): FlattenedJWSInput {
  const [protectedPart, payload, signature] = token.split(".");
  return { protected: protectedPart!, payload: payload!, signature: signature! };
}

/** A token that passed every check, with what it was checked against. */
interface VerifiedToken {
  principal: Principal;
  header: JWTHeaderParameters;
  input: FlattenedJWSInput;
  /** The key its signature was verified with. */
  key: unknown;
  exp: number;
  nbf: number | undefined;
}

/**
 * Tokens that passed verification, keyed on the exact token string, at most `max` (the least recently used goes
 * first). An entry is only returned while the token is within its `exp` and `nbf` (with jose's clock tolerance and
 * its comparisons), so a remembered token expires exactly when a freshly verified one would.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(private readonly max: number) {}

  get(token: string, clockToleranceSec: number): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    const now = Math.floor(Date.now() / 1000);
    if (entry.exp <= now - clockToleranceSec || (entry.nbf !== undefined && entry.nbf > now + clockToleranceSec)) {
      this.entries.delete(token);
      return undefined;
    }
    // Most recently used last, so the first key is the one to evict.
    this.entries.delete(token);
    this.entries.set(token, entry);
    return entry;
  }

  add(token: string, entry: VerifiedToken): void {
    if (this.max <= 0) return;
    this.entries.delete(token);
    this.entries.set(token, entry);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(token: string): void {
    this.entries.delete(token);
  }
}
