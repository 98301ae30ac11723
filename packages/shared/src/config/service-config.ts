/** Typed configuration read once from the environment, with errors that name the variable. */
import { loadAuthConfig, type AuthConfig } from "../auth/auth-config.js";
import { ConfigError } from "./config-error.js";
import { readServerLimits, type ServerLimits } from "./server-limits.js";

export { ConfigError };

/** The three services of the system. */
export type ServiceName = "receipts" | "staleness" | "regeneration";

/** Default port per service, as the architecture fixes them. */
export const DEFAULT_PORTS: Readonly<Record<ServiceName, number>> = {
  receipts: 7101,
  staleness: 7102,
  regeneration: 7103,
};

/**
 * The login role each service connects as (the user of its DATABASE_URL): made by its migrations, holding only the
 * privileges the service uses. The service refuses to start as any other role.
 */
export const SERVICE_DATABASE_ROLES: Readonly<Record<ServiceName, string>> = {
  receipts: "receipts_app",
  staleness: "staleness_app",
  regeneration: "regeneration_app",
};

/** Log levels pino understands. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Everything a service reads from its environment. */
export interface ServiceConfig {
  readonly service: ServiceName;
  /** Port of the one h2c + HTTP/1.1 listener; 0 = any free port. */
  readonly port: number;
  readonly host: string;
  /**
   * Connection the service uses at run time (`DATABASE_URL`): it must log in as the service's own role
   * ({@link SERVICE_DATABASE_ROLES}); a superuser, the owner or any role with more rights is refused at start. Its
   * password, when it has one, is the one migrations give that role.
   */
  readonly databaseUrl: string;
  /** Connection migrations run with (`MIGRATION_DATABASE_URL`, the schema owner); defaults to {@link databaseUrl}. */
  readonly migrationDatabaseUrl: string;
  readonly natsUrl: string;
  /**
   * Prefix for stream names and subjects, empty in production. Tests and side-by-side
   * deployments on one NATS set it so their streams never meet.
   */
  readonly eventNamespace: string;
  readonly receiptsUrl: string;
  readonly stalenessUrl: string;
  readonly regenerationUrl: string;
  readonly logLevel: LogLevel;
  /**
   * Browser origins allowed to call the service (CORS), from `CORS_ORIGINS`: a comma list of exact origins such as
   * `http://localhost:7100`, or `*` for any. Unset (the default) is an empty list: no cross-origin access at all, no
   * CORS headers (the console calls through its own same-origin proxy).
   */
  readonly corsOrigins: readonly string[] | "*";
  /**
   * Responses at least this large are compressed for clients that accept it, from `RPC_COMPRESS_MIN_BYTES` (bytes, or
   * `off`, the default). Off because the callers are in the same cluster: gzip of a million-receipt project's 2.3 MB
   * staleness report took ~90 ms of the service's CPU and ~30 ms of the client's, far more than sending the bytes.
   * Set it where clients sit behind a slow link and no ingress compresses.
   */
  readonly compressMinBytes: number;
  /**
   * Identity and access (`AUTH_JWKS`, `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_POLICY`, `SERVICE_TOKEN_FILE`), read by
   * `loadAuthConfig`: required, as every RPC and REST route but health, readiness and metrics needs a bearer token —
   * there is no setting that turns checking off.
   */
  readonly auth: AuthConfig;
  /**
   * Request size and connection time bounds (`MAX_REQUEST_BYTES`, `HEADERS_TIMEOUT_MS`, `REQUEST_TIMEOUT_MS`,
   * `IDLE_TIMEOUT_MS`); pass them to the server as `limits` (it reads the same variables itself when not given).
   */
  readonly limits: ServerLimits;
  /** The receipts service's receipt log (`RECEIPT_LOG_*`); read for every service, used by receipts only. */
  readonly receiptLog: ReceiptLogConfig;
}

/** The receipt log's settings (ARCHITECTURE.md, "The receipt log"). */
export interface ReceiptLogConfig {
  /**
   * `RECEIPT_LOG_SIGNING_KEY`: the file holding the Ed25519 key checkpoints are signed with (PKCS#8 PEM, or the note
   * key form `PRIVATE+KEY+<name>+<id>+<data>`). Never from the database. Required by the receipts service at start
   * (undefined here when unset, so the other services need none).
   */
  readonly signingKeyFile: string | undefined;
  /** `RECEIPT_LOG_ORIGIN`: the checkpoints' origin line (and the key name of a PEM key); default `provenance.local/receipt-log`. */
  readonly origin: string;
  /** `RECEIPT_LOG_AUDIT_INTERVAL_SECONDS`: seconds between the auditor's rescans of every stored receipt; default 3600. */
  readonly auditIntervalSeconds: number;
}

/** The receipt log's origin when `RECEIPT_LOG_ORIGIN` is unset. */
export const DEFAULT_RECEIPT_LOG_ORIGIN = "provenance.local/receipt-log";


type Env = Readonly<Record<string, string | undefined>>;

function readUrl(env: Env, name: string, fallback: string, protocols: readonly string[]): string {
  const raw = env[name]?.trim() || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not a URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(" or ")}, got "${raw}"`);
  }
  return raw;
}

function readPort(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new ConfigError(name, `must be a port number from 0 to 65535, got "${raw}"`);
  }
  return Number(raw);
}

function readNamespace(env: Env): string {
  const raw = env.EVENT_NAMESPACE?.trim() ?? "";
  if (raw !== "" && !/^[a-z0-9_]{1,32}$/.test(raw)) {
    throw new ConfigError("EVENT_NAMESPACE", `must be 1-32 characters of a-z, 0-9 and _, got "${raw}"`);
  }
  return raw;
}

function readOrigins(env: Env): readonly string[] | "*" {
  const raw = env.CORS_ORIGINS?.trim() ?? "";
  if (raw === "") return [];
  if (raw === "*") return "*";
  return raw.split(",").map((part) => {
    const origin = part.trim();
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError("CORS_ORIGINS", `"${origin}" is not an origin like http://localhost:7100`);
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== origin) {
      throw new ConfigError("CORS_ORIGINS", `"${origin}" is not an origin (scheme://host[:port], no path); use "*" for any`);
    }
    return origin;
  });
}

function readCompressMinBytes(env: Env): number {
  const raw = env.RPC_COMPRESS_MIN_BYTES?.trim() ?? "";
  if (raw === "" || raw === "off") return Number.POSITIVE_INFINITY;
  if (!/^\d{1,10}$/.test(raw)) throw new ConfigError("RPC_COMPRESS_MIN_BYTES", `must be a number of bytes or "off", got "${raw}"`);
  return Number(raw);
}

function readReceiptLog(env: Env): ReceiptLogConfig {
  const file = env.RECEIPT_LOG_SIGNING_KEY?.trim() || undefined;
  const origin = env.RECEIPT_LOG_ORIGIN?.trim() || DEFAULT_RECEIPT_LOG_ORIGIN;
  // A note key name: non-empty, no space, no plus sign, no control character.
  if (!/^[^\s+\p{Cc}]{1,256}$/u.test(origin)) {
    throw new ConfigError("RECEIPT_LOG_ORIGIN", `must be 1-256 characters without spaces, "+" or control characters, got "${origin}"`);
  }
  const rawInterval = env.RECEIPT_LOG_AUDIT_INTERVAL_SECONDS?.trim() || "3600";
  if (!/^\d{1,7}$/.test(rawInterval) || Number(rawInterval) < 1) {
    throw new ConfigError("RECEIPT_LOG_AUDIT_INTERVAL_SECONDS", `must be a whole number of seconds from 1, got "${rawInterval}"`);
  }
  return { signingKeyFile: file, origin, auditIntervalSeconds: Number(rawInterval) };
}

/**
 * Reads the configuration of `service` from `env` (default `process.env`), the identity-and-access variables included
 * (required). Throws {@link ConfigError} naming the variable.
 */
export function loadConfig(service: ServiceName, env: Env = process.env): ServiceConfig {
  const databaseUrl = readUrl(env, "DATABASE_URL", "postgres://root@127.0.0.1:5432/provenance", [
    "postgres:",
    "postgresql:",
  ]);
  const level = (env.LOG_LEVEL?.trim() || "info") as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
  }
  return {
    service,
    port: readPort(env, "PORT", DEFAULT_PORTS[service]),
    host: env.HOST?.trim() || "0.0.0.0",
    databaseUrl,
    migrationDatabaseUrl: readUrl(env, "MIGRATION_DATABASE_URL", databaseUrl, ["postgres:", "postgresql:"]),
    natsUrl: readUrl(env, "NATS_URL", "nats://127.0.0.1:4222", ["nats:", "tls:", "ws:", "wss:", "memory:"]),
    eventNamespace: readNamespace(env),
    receiptsUrl: readUrl(env, "RECEIPTS_URL", `http://127.0.0.1:${DEFAULT_PORTS.receipts}`, ["http:", "https:"]),
    stalenessUrl: readUrl(env, "STALENESS_URL", `http://127.0.0.1:${DEFAULT_PORTS.staleness}`, ["http:", "https:"]),
    regenerationUrl: readUrl(env, "REGENERATION_URL", `http://127.0.0.1:${DEFAULT_PORTS.regeneration}`, [
      "http:",
      "https:",
    ]),
    logLevel: level,
    corsOrigins: readOrigins(env),
    compressMinBytes: readCompressMinBytes(env),
    limits: readServerLimits(env),
    auth: loadAuthConfig(env),
    receiptLog: readReceiptLog(env),
  };
}
