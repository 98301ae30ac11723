/** The grants file of `AUTH_POLICY`: read and validated at start, re-read when it changes. */
import { extname } from "node:path";
import { ConfigError } from "../config/index.js";
import { parsePolicy, PolicyError, type Policy } from "./policy.js";
import { watchFile } from "./watched-file.js";

/** Where the current grants come from. */
export interface PolicySource {
  /** The grants in force now. */
  current(): Promise<Policy>;
}

/** A policy that never changes (tests, embedded uses). */
export function staticPolicySource(policy: Policy): PolicySource {
  return { current: async () => policy };
}

/** How a policy file is watched. */
export interface PolicyFileOptions {
  /** How often the file is compared with what was read, in ms (default 1000). */
  checkIntervalMs?: number;
  /** A changed file that is not a valid policy: reported here, and the previous grants stay in force. */
  onReloadError?: (err: unknown) => void;
  /** A changed file was loaded. */
  onReload?: () => void;
}

/** The format of a policy file by its name: `.json` is JSON, anything else YAML (which also reads JSON). */
export function policyFormatOf(path: string): "json" | "yaml" {
  return extname(path).toLowerCase() === ".json" ? "json" : "yaml";
}

/**
 * Reads and validates the policy at `path` now; throws a {@link ConfigError} naming `AUTH_POLICY`, the file and the
 * offending entry (`AUTH_POLICY: /etc/provenance/policy.yaml: grants[3].role: unknown role "owner"; …`). Afterwards the
 * file is re-read when it changes; a broken edit is reported to `onReloadError` and the last valid grants stay.
 */
export async function loadPolicyFile(path: string, opts: PolicyFileOptions = {}): Promise<PolicySource> {
  const format = policyFormatOf(path);
  try {
    const file = await watchFile(path, (text) => parsePolicy(text, format), opts);
    return { current: () => file.current() };
  } catch (err) {
    if (err instanceof PolicyError) throw new ConfigError("AUTH_POLICY", `${path}: ${err.message}`);
    throw new ConfigError("AUTH_POLICY", `cannot read ${path}: ${(err as Error).message}`);
  }
}
