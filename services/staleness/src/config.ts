/** The staleness service's own settings beside the shared ServiceConfig: the bounds on WatchStaleness streams, from the environment. */
import { ConfigError } from "@provenance/shared";
import { WATCH_LIMIT_VARIABLES, type WatchLimits } from "./domain/watch-bounds.js";

/**
 * 64 changes waiting per stream (each a reference to the one decoded change every stream shares), 100 streams per
 * caller, 10,000 per server.
 */
export const DEFAULT_WATCH_LIMITS: WatchLimits = Object.freeze({
  queueLength: 64,
  maxStreamsPerCaller: 100,
  maxStreams: 10_000,
});

// Past these a bound protects nothing: a million streams or queued changes is more than one process can serve.
const MAX_VALUE = 1_000_000;

type Env = Readonly<Record<string, string | undefined>>;

function readCount(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim() ?? "";
  if (raw === "") return fallback;
  const n = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= MAX_VALUE)) throw new ConfigError(name, `must be a whole number from 1 to ${MAX_VALUE}, got "${raw}"`);
  return n;
}

/**
 * Reads `WATCH_QUEUE_LENGTH`, `WATCH_MAX_STREAMS_PER_CALLER` and `WATCH_MAX_STREAMS` from `env` (default
 * `process.env`); unset ones take {@link DEFAULT_WATCH_LIMITS}. Throws ConfigError naming a variable that cannot be used.
 */
export function readWatchLimits(env: Env = process.env): WatchLimits {
  const v = WATCH_LIMIT_VARIABLES;
  const d = DEFAULT_WATCH_LIMITS;
  return {
    queueLength: readCount(env, v.queueLength, d.queueLength),
    maxStreamsPerCaller: readCount(env, v.maxStreamsPerCaller, d.maxStreamsPerCaller),
    maxStreams: readCount(env, v.maxStreams, d.maxStreams),
  };
}
