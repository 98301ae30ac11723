/**
 * The local issuer of `npm start` (no `AUTH_JWKS` given): an Ed25519 key pair made once under a directory, the JWKS
 * and policy files the services are pointed at, and tokens minted from it (for the console, the CLI, the demo).
 */
import { randomUUID } from "node:crypto";
import { chmod, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { userInfo } from "node:os";
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { DEFAULT_AUDIENCE } from "./auth-config.js";
import { ANY_PROJECT } from "./policy.js";

/** The `iss` of tokens from the local issuer. */
export const LOCAL_ISSUER = "provenance-local";

/** How long a token minted by the local issuer is valid by default: 12 hours. */
export const LOCAL_TOKEN_TTL_SECONDS = 12 * 60 * 60;

/** The files of a local issuer directory. */
export const LOCAL_ISSUER_FILES = {
  /** The private key (JWK), mode 0600. */
  signingKey: "signing-key.json",
  /** The public JWK set the services read through `AUTH_JWKS`. */
  jwks: "jwks.json",
  /** Issuer id, audience and the local user's subject. */
  identity: "issuer.json",
  /** The grants the services read through `AUTH_POLICY`: the local user is admin on "*" (kept if edited). */
  policy: "policy.yaml",
} as const;

/** What {@link mintToken} puts in a token. */
export interface MintOptions {
  /** `sub` (default: the local user). */
  subject?: string;
  /** `groups`, when given. */
  groups?: readonly string[];
  /** Lifetime in seconds (default {@link LOCAL_TOKEN_TTL_SECONDS}). */
  ttlSeconds?: number;
  /** `aud` (default: the issuer's audience). */
  audience?: string;
}

/** An opened local issuer. */
export interface LocalIssuer {
  readonly dir: string;
  /** `iss` of its tokens ({@link LOCAL_ISSUER}). */
  readonly issuer: string;
  /** `aud` of its tokens (`provenance`). */
  readonly audience: string;
  /** The local user: the subject granted admin on "*" and the default `sub`. */
  readonly subject: string;
  /** Absolute paths of its JWKS and policy files. */
  readonly jwksFile: string;
  readonly policyFile: string;
  /** The environment that points a service at this issuer: `AUTH_JWKS`, `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_POLICY`. */
  env(): Record<"AUTH_JWKS" | "AUTH_ISSUER" | "AUTH_AUDIENCE" | "AUTH_POLICY", string>;
  /** A signed token (EdDSA) for `opts.subject` (default the local user). */
  mintToken(opts?: MintOptions): Promise<string>;
  /** Mints a token and writes it to `path` (mode 0600), e.g. for a local process's `SERVICE_TOKEN_FILE`. */
  writeTokenFile(path: string, opts?: MintOptions): Promise<string>;
}

/** Options of {@link ensureLocalIssuer}. */
export interface LocalIssuerOptions {
  /** The local user's subject when the issuer is first made (default `local:<OS user name>`). */
  subject?: string;
}

interface Identity {
  issuer: string;
  audience: string;
  subject: string;
}

function defaultSubject(): string {
  let name = "user";
  try {
    name = userInfo().username || name;
  } catch {
    // No passwd entry (some containers): keep the generic name.
  }
  return `local:${name}`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Creates `path` with `content` unless it exists; true when this call created it. */
async function createOnce(path: string, content: string, mode: number): Promise<boolean> {
  try {
    await writeFile(path, content, { flag: "wx", mode });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/** Writes `path` through a temporary file and a rename, so a reader never sees half a file. */
async function replaceFile(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, path);
}

function policyText(subject: string): string {
  return [
    "# Grants of the local issuer (AUTH_POLICY of npm start). Edit freely: the services re-read it when it changes.",
    "# Each grant: subject or group, project (an id or \"*\"), role (viewer < pipeline < creator < admin).",
    "grants:",
    `  - subject: ${JSON.stringify(subject)}`,
    `    project: ${JSON.stringify(ANY_PROJECT)}`,
    "    role: admin",
    "",
  ].join("\n");
}

async function open(dir: string, privateJwk: JWK, identity: Identity): Promise<LocalIssuer> {
  const key = await importJWK(privateJwk, "EdDSA");
  const kid = privateJwk.kid!;
  const jwksFile = join(dir, LOCAL_ISSUER_FILES.jwks);
  const policyFile = join(dir, LOCAL_ISSUER_FILES.policy);
  const mintToken = async (opts: MintOptions = {}) => {
    const ttl = opts.ttlSeconds ?? LOCAL_TOKEN_TTL_SECONDS;
    if (!Number.isFinite(ttl) || ttl <= 0) throw new Error(`ttlSeconds must be positive, got ${ttl}`);
    const now = Math.floor(Date.now() / 1000);
    const claims = opts.groups === undefined ? {} : { groups: [...opts.groups] };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" })
      .setIssuer(identity.issuer)
      .setAudience(opts.audience ?? identity.audience)
      .setSubject(opts.subject ?? identity.subject)
      .setIssuedAt(now)
      .setExpirationTime(now + Math.floor(ttl))
      .setJti(randomUUID())
      .sign(key);
  };
  return {
    dir,
    issuer: identity.issuer,
    audience: identity.audience,
    subject: identity.subject,
    jwksFile,
    policyFile,
    env: () => ({ AUTH_JWKS: jwksFile, AUTH_ISSUER: identity.issuer, AUTH_AUDIENCE: identity.audience, AUTH_POLICY: policyFile }),
    mintToken,
    async writeTokenFile(path, opts) {
      const token = await mintToken(opts);
      await replaceFile(path, `${token}\n`, 0o600);
      return token;
    },
  };
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

/**
 * Opens the local issuer in `dir` (e.g. `<dataDir>/auth`), making what is missing: the key pair on first use (private
 * key mode 0600, directory 0700), the JWKS file (rewritten from the key), the identity file and the policy granting
 * the local user admin on "*" (never overwritten, so edits stay). Safe to call on every start.
 */
export async function ensureLocalIssuer(dir: string, opts: LocalIssuerOptions = {}): Promise<LocalIssuer> {
  // Only the issuer's own directory is private: its parents (the data directory) must stay enterable by others,
  // e.g. the postgres user of an embedded database.
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
  });
  const keyFile = join(dir, LOCAL_ISSUER_FILES.signingKey);
  if (!(await exists(keyFile))) {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    // Another process may have made it meanwhile; then its key wins and this one is dropped.
    await createOnce(keyFile, `${JSON.stringify({ ...jwk, kid, alg: "EdDSA", use: "sig" }, null, 2)}\n`, 0o600);
  }
  const identityFile = join(dir, LOCAL_ISSUER_FILES.identity);
  const fresh: Identity = { issuer: LOCAL_ISSUER, audience: DEFAULT_AUDIENCE, subject: opts.subject ?? defaultSubject() };
  await createOnce(identityFile, `${JSON.stringify(fresh, null, 2)}\n`, 0o644);
  const identity = await readJson<Identity>(identityFile);
  await createOnce(join(dir, LOCAL_ISSUER_FILES.policy), policyText(identity.subject), 0o644);
  return openLocalIssuer(dir);
}

/**
 * Opens an existing local issuer (the CLI's `auth token`); throws when `dir` holds none. Rewrites the JWKS file when
 * it does not match the key, and tightens the key file to 0600 if it was loosened.
 */
export async function openLocalIssuer(dir: string): Promise<LocalIssuer> {
  const keyFile = join(dir, LOCAL_ISSUER_FILES.signingKey);
  if (!(await exists(keyFile))) throw new Error(`no local issuer in ${dir} (npm start makes one)`);
  if (((await stat(keyFile)).mode & 0o077) !== 0) await chmod(keyFile, 0o600);
  const privateJwk = await readJson<JWK>(keyFile);
  if (privateJwk.kty !== "OKP" || privateJwk.crv !== "Ed25519" || !privateJwk.d || !privateJwk.kid) {
    throw new Error(`${keyFile} is not an Ed25519 private JWK with a kid`);
  }
  const { d: _d, ...publicJwk } = privateJwk;
  const jwksFile = join(dir, LOCAL_ISSUER_FILES.jwks);
  const jwks = `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`;
  const current = await readFile(jwksFile, "utf8").catch(() => undefined);
  if (current !== jwks) await replaceFile(jwksFile, jwks, 0o644);
  const identity = await readJson<Identity>(join(dir, LOCAL_ISSUER_FILES.identity));
  return open(dir, privateJwk, identity);
}
