/** The bounds every service server puts on what a client may send and how long it may take, read from the environment. */
import { ConfigError } from "./config-error.js";

/** Bounds on request size and on the time a client may take; one set per server, the same for every service. */
export interface ServerLimits {
  /**
   * Largest request message (or REST body) in bytes, from `MAX_REQUEST_BYTES` (default 8 MiB). Counted after
   * decompression: a gzip body that inflates past it is refused as soon as it does, without inflating the rest.
   */
  readonly maxRequestBytes: number;
  /**
   * How long a connection may take to send a request's headers, from `HEADERS_TIMEOUT_MS` (default 10 s): the
   * HTTP/1.1 request line and headers, the HTTP/2 connection preface, and an HTTP/2 session's first request.
   */
  readonly headersTimeoutMs: number;
  /**
   * How long a client may take to send a whole request, headers and body, from `REQUEST_TIMEOUT_MS` (default 60 s).
   * Only the request counts: a long-lived response stream (WatchStaleness, Health.Watch) is not cut by it.
   */
  readonly requestTimeoutMs: number;
  /**
   * How long a connection with no request in flight stays open, from `IDLE_TIMEOUT_MS` (default 120 s): HTTP/1.1
   * keep-alive between requests, an HTTP/2 session without open streams.
   */
  readonly idleTimeoutMs: number;
}

/** The limits a platform team would pick: 8 MiB requests, 10 s for headers, 60 s for a request, 120 s idle. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  maxRequestBytes: 8 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 120_000,
});

/** The environment variable of each limit, for messages and documentation. */
export const SERVER_LIMIT_VARIABLES: Readonly<Record<keyof ServerLimits, string>> = Object.freeze({
  maxRequestBytes: "MAX_REQUEST_BYTES",
  headersTimeoutMs: "HEADERS_TIMEOUT_MS",
  requestTimeoutMs: "REQUEST_TIMEOUT_MS",
  idleTimeoutMs: "IDLE_TIMEOUT_MS",
});

// 4 GiB - 1 is what zlib and protobuf-es can handle at all; a day is longer than any request should take.
const MAX_BYTES = 0xffffffff;
const MAX_MS = 86_400_000;

type Env = Readonly<Record<string, string | undefined>>;

function readBytes(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim() ?? "";
  if (raw === "") return fallback;
  const m = /^(\d{1,10})\s*(KiB|MiB|GiB)?$/i.exec(raw);
  const unit = { kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }[(m?.[2] ?? "").toLowerCase()] ?? 1;
  const bytes = m ? Number(m[1]) * unit : Number.NaN;
  if (!(bytes >= 1024 && bytes <= MAX_BYTES)) {
    throw new ConfigError(name, `must be a size from 1024 bytes to 4 GiB (a number of bytes, or e.g. "8MiB"), got "${raw}"`);
  }
  return bytes;
}

function readMs(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim() ?? "";
  if (raw === "") return fallback;
  const ms = /^\d{1,8}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(ms >= 100 && ms <= MAX_MS)) throw new ConfigError(name, `must be a number of milliseconds from 100 to ${MAX_MS}, got "${raw}"`);
  return ms;
}

/** Reads the server limits from `env` (default `process.env`); unset variables take {@link DEFAULT_SERVER_LIMITS}. Throws ConfigError. */
export function readServerLimits(env: Env = process.env): ServerLimits {
  const d = DEFAULT_SERVER_LIMITS;
  const v = SERVER_LIMIT_VARIABLES;
  const limits = {
    maxRequestBytes: readBytes(env, v.maxRequestBytes, d.maxRequestBytes),
    headersTimeoutMs: readMs(env, v.headersTimeoutMs, d.headersTimeoutMs),
    requestTimeoutMs: readMs(env, v.requestTimeoutMs, d.requestTimeoutMs),
    idleTimeoutMs: readMs(env, v.idleTimeoutMs, d.idleTimeoutMs),
  };
  if (limits.requestTimeoutMs < limits.headersTimeoutMs) {
    throw new ConfigError(v.requestTimeoutMs, `must not be shorter than ${v.headersTimeoutMs} (${limits.headersTimeoutMs} ms): the headers are part of the request`);
  }
  return limits;
}
