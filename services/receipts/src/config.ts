/** The receipts service's own settings beside the shared ServiceConfig, from the environment. */
import { ConfigError } from "@provenance/shared";

/** RECEIPT_RUNNING_LIMIT_SECONDS when unset: a generation running for over an hour counts as running too long. */
export const DEFAULT_RUNNING_LIMIT_SECONDS = 3600;

/** The longest limit accepted: 30 days. */
const MAX_RUNNING_LIMIT_SECONDS = 30 * 24 * 3600;

/**
 * Reads RECEIPT_RUNNING_LIMIT_SECONDS from `env` (default `process.env`): how long a RUNNING receipt may have been
 * running before GetCoverage counts it as running too long (a generation that never completed). Throws ConfigError
 * naming the variable when it is not a whole number of seconds from 1 to 30 days.
 */
export function readRunningLimitSeconds(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env.RECEIPT_RUNNING_LIMIT_SECONDS?.trim() ?? "";
  if (raw === "") return DEFAULT_RUNNING_LIMIT_SECONDS;
  const n = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= MAX_RUNNING_LIMIT_SECONDS)) {
    throw new ConfigError("RECEIPT_RUNNING_LIMIT_SECONDS", `must be a whole number of seconds from 1 to ${MAX_RUNNING_LIMIT_SECONDS}, got "${raw}"`);
  }
  return n;
}
