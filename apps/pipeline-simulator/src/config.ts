/** The pipeline simulator's configuration, read once from the environment, with errors that name the variable. */
import { ConfigError, DEFAULT_PORTS, LOG_LEVELS, type LogLevel } from "@provenance/shared";
import { loadServiceTokenFile } from "@provenance/shared/auth";

/** Everything the simulator's entry point reads. */
export interface SimulatorConfig {
  /** The NATS server with the GENERATION work queue (`NATS_URL`, default the local one). */
  readonly natsUrl: string;
  /** Where ReceiptService is (`RECEIPTS_URL`, default the receipts service's default port on this host). */
  readonly receiptsUrl: string;
  /**
   * The token it presents to ReceiptService (`SERVICE_TOKEN_FILE`, required; re-read when it changes): a projected
   * service-account token in Kubernetes, a file npm start's local issuer writes locally.
   */
  readonly serviceTokenFile: string;
  /** Prefix of stream names and subjects (`EVENT_NAMESPACE`, empty in production); must match the services'. */
  readonly eventNamespace: string;
  readonly logLevel: LogLevel;
  /** Old segment ids whose jobs complete FAILED (`SIMULATOR_FAIL_SEGMENTS`, comma-separated). */
  readonly failSegmentIds: readonly string[];
  /** Share of jobs (0..1, chosen by job id) that complete FAILED (`SIMULATOR_FAIL_FRACTION`). */
  readonly failFraction: number;
  /** Old segment ids whose jobs are generated with another seed than planned (`SIMULATOR_TAMPER_SEGMENTS`). */
  readonly tamperSegmentIds: readonly string[];
  /** Share of jobs (0..1, by job id) tampered with (`SIMULATOR_TAMPER_FRACTION`). */
  readonly tamperFraction: number;
  /** Simulated generation time per job in ms (`SIMULATOR_GENERATION_MS`, default 0). */
  readonly generationMs: number;
  /** Output hashes differ per run even for the same inputs (`SIMULATOR_NONDETERMINISTIC=1`; default 0, deterministic). */
  readonly nondeterministic: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

function url(env: Env, name: string, fallback: string, protocols: readonly string[]): string {
  const raw = env[name]?.trim() || fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(" or ")}, got "${raw}"`);
  }
  return raw;
}

function natsUrl(env: Env): string {
  // The in-process bus (memory://) exists only inside the process that runs the services; this one runs on its own.
  if (env.NATS_URL?.trim().startsWith("memory:")) {
    throw new ConfigError("NATS_URL", "the in-process bus cannot be reached from another process; give a NATS server (nats://host:port)");
  }
  return url(env, "NATS_URL", "nats://127.0.0.1:4222", ["nats:", "tls:", "ws:", "wss:"]);
}

function namespace(env: Env): string {
  const raw = env.EVENT_NAMESPACE?.trim() ?? "";
  if (raw !== "" && !/^[a-z0-9_]{1,32}$/.test(raw)) {
    throw new ConfigError("EVENT_NAMESPACE", `must be 1-32 characters of a-z, 0-9 and _, got "${raw}"`);
  }
  return raw;
}

function logLevel(env: Env): LogLevel {
  const raw = env.LOG_LEVEL?.trim() || "info";
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}, got "${raw}"`);
  return raw as LogLevel;
}

function fraction(env: Env, name: string): number {
  const raw = env[name]?.trim();
  if (!raw) return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(name, `must be a number from 0 to 1, got "${raw}"`);
  return n;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function millis(env: Env, name: string): number {
  const raw = env[name]?.trim();
  if (!raw) return 0;
  if (!/^\d{1,7}$/.test(raw)) throw new ConfigError(name, `must be a whole number of milliseconds (at most 7 digits), got "${raw}"`);
  return Number(raw);
}

function flag(env: Env, name: string): boolean {
  const raw = env[name]?.trim() ?? "";
  if (raw === "" || raw === "0") return false;
  if (raw === "1") return true;
  throw new ConfigError(name, `must be 0 or 1, got "${raw}"`);
}

/** Reads the simulator's configuration from `env` (default `process.env`). Throws {@link ConfigError} naming the variable. */
export function loadSimulatorConfig(env: Env = process.env): SimulatorConfig {
  return {
    natsUrl: natsUrl(env),
    receiptsUrl: url(env, "RECEIPTS_URL", `http://127.0.0.1:${DEFAULT_PORTS.receipts}`, ["http:", "https:"]),
    eventNamespace: namespace(env),
    logLevel: logLevel(env),
    failSegmentIds: list(env, "SIMULATOR_FAIL_SEGMENTS"),
    failFraction: fraction(env, "SIMULATOR_FAIL_FRACTION"),
    tamperSegmentIds: list(env, "SIMULATOR_TAMPER_SEGMENTS"),
    tamperFraction: fraction(env, "SIMULATOR_TAMPER_FRACTION"),
    generationMs: millis(env, "SIMULATOR_GENERATION_MS"),
    nondeterministic: flag(env, "SIMULATOR_NONDETERMINISTIC"),
    serviceTokenFile: loadServiceTokenFile(env),
  };
}
