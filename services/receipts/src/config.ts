/** The receipts service's own settings beside the shared ServiceConfig, from the environment. */
import { ConfigError } from "@provenance/shared";
import { MAX_GROUP_COMMIT_SIZE } from "./app/group-commit.js";

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

/**
 * Reads RECEIPT_GROUP_COMMIT_MAX_SIZE from `env` (default `process.env`): the most single CreateReceipt (or
 * CompleteReceipt) calls one group commit writes in a transaction, default and at most 1,000 (the batch limit); 1
 * writes every call in its own transaction. Throws ConfigError naming the variable when it is not a whole number
 * from 1 to 1,000.
 */
export function readGroupCommitMaxSize(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env.RECEIPT_GROUP_COMMIT_MAX_SIZE?.trim() ?? "";
  if (raw === "") return MAX_GROUP_COMMIT_SIZE;
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= MAX_GROUP_COMMIT_SIZE)) {
    throw new ConfigError("RECEIPT_GROUP_COMMIT_MAX_SIZE", `must be a whole number from 1 to ${MAX_GROUP_COMMIT_SIZE}, got "${raw}"`);
  }
  return n;
}
