/** The staleness service's own settings beside the shared ServiceConfig: the bounds on WatchStaleness streams, from the environment. */
import { ConfigError } from "@provenance/shared";
import { WATCH_LIMIT_VARIABLES, type WatchLimits } from "./domain/watch-bounds.js";

/**
 * 64 changes waiting per stream (each a reference to the one change every stream of its project shares), 100 streams
 * per caller, 10,000 per server, 32 MiB of changes serialized and not yet sent (~160 typical changes of 2,400 ids).
 */
export const DEFAULT_WATCH_LIMITS: WatchLimits = Object.freeze({
  queueLength: 64,
  maxStreamsPerCaller: 100,
  maxStreams: 10_000,
  maxBufferedBytes: 32 * 1024 * 1024,
});

// 64 KiB: one HTTP/2 window; 4 GiB: more than a service should hold for its streams.
const MIN_BUFFERED_BYTES = 64 * 1024;
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024 * 1024;

// Past these a bound protects nothing: a million streams or queued changes is more than one process can serve.
const MAX_VALUE = 1_000_000;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The whole number in `env[name]` from `min` to `max` (`unit` names what it counts in the error), or `fallback` when
 * unset or blank. Throws ConfigError naming the variable and the range otherwise.
 */
function readWhole(env: Env, name: string, fallback: number, min: number, max: number, unit = ""): number {
  const raw = env[name]?.trim() ?? "";
  if (raw === "") return fallback;
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) throw new ConfigError(name, `must be a whole number${unit ? ` of ${unit}` : ""} from ${min} to ${max}, got "${raw}"`);
  return n;
}

const readCount = (env: Env, name: string, fallback: number) => readWhole(env, name, fallback, 1, MAX_VALUE);

/**
 * Reads `WATCH_QUEUE_LENGTH`, `WATCH_MAX_STREAMS_PER_CALLER`, `WATCH_MAX_STREAMS` and `WATCH_MAX_BUFFERED_BYTES` from
 * `env` (default `process.env`); unset ones take {@link DEFAULT_WATCH_LIMITS}. Throws ConfigError naming a variable
 * that cannot be used.
 */
export function readWatchLimits(env: Env = process.env): WatchLimits {
  const v = WATCH_LIMIT_VARIABLES;
  const d = DEFAULT_WATCH_LIMITS;
  return {
    queueLength: readCount(env, v.queueLength, d.queueLength),
    maxStreamsPerCaller: readCount(env, v.maxStreamsPerCaller, d.maxStreamsPerCaller),
    maxStreams: readCount(env, v.maxStreams, d.maxStreams),
    maxBufferedBytes: readWhole(env, v.maxBufferedBytes, d.maxBufferedBytes, MIN_BUFFERED_BYTES, MAX_BUFFERED_BYTES, "bytes"),
  };
}

/** How often the expiry timer looks for pins whose expiry has passed (PIN_EXPIRY_CHECK_MS), by default. */
export const DEFAULT_PIN_EXPIRY_CHECK_MS = 5_000;

/** Reads `PIN_EXPIRY_CHECK_MS` (milliseconds, 10 to 3,600,000; default 5,000). Throws ConfigError when it cannot be used. */
export function readPinExpiryCheckMs(env: Env = process.env): number {
  return readWhole(env, "PIN_EXPIRY_CHECK_MS", DEFAULT_PIN_EXPIRY_CHECK_MS, 10, 3_600_000, "milliseconds");
}
