/**
 * Identity and access for `npm start`. With `AUTH_JWKS` unset: the local issuer under `<dataDir>/auth` — the services
 * check its tokens against its JWKS and policy files, the local user is admin on "*", and the launcher's own
 * processes (the pipeline simulator, each service's calls on its own behalf) present token files that are re-minted
 * long before they expire. With `AUTH_JWKS` set: the operator's variables are passed through and no issuer runs.
 */
import { randomUUID } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseDocument } from "yaml";
import type { ServiceName } from "@provenance/shared";
import {
  ANY_PROJECT,
  LOCAL_TOKEN_TTL_SECONDS,
  PolicyError,
  ensureLocalIssuer,
  loadAuthConfig,
  roleIn,
  roleIncludes,
  validatePolicy,
  type Grant,
  type LocalIssuer,
} from "@provenance/shared/auth";
import { SystemStartError } from "./system-start-error.js";

/** The subjects of the launcher's own processes in local mode: the pipeline simulator and each service. */
export const LAUNCHER_SUBJECTS = {
  simulator: "provenance:pipeline-simulator",
  receipts: "provenance:receipts",
  staleness: "provenance:staleness",
  regeneration: "provenance:regeneration",
} as const;

/**
 * What the launcher's processes need in the local policy, added when missing (the rest of the file is left as it is):
 * the simulator records receipts (pipeline on "*"). The services need none: each call they make acts for a caller and
 * forwards that caller's token; their own token files are there for calls on their own behalf, should one be added.
 */
export const LAUNCHER_GRANTS: readonly Grant[] = [{ subject: LAUNCHER_SUBJECTS.simulator, project: ANY_PROJECT, role: "pipeline" }];

/** The variables of identity and access npm start passes to every service when the operator sets `AUTH_JWKS`. */
export const PASSED_AUTH_VARIABLES = ["AUTH_JWKS", "AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_POLICY", "SERVICE_TOKEN_FILE"] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** How the system's access is set up. */
export interface AccessOptions {
  dataDir: string;
  /** Where AUTH_* and SERVICE_TOKEN_FILE are read from (npm start: its environment). */
  env: Env;
  /** Lifetime of the launcher's token files (default 12 h); each is re-minted after half of it. */
  tokenTtlSeconds?: number;
  /** How often the token files' age is checked, by the wall clock so a machine that slept is noticed (default 60 s). */
  renewCheckMs?: number;
}

/** Access as the running system has it. */
export interface SystemAccess {
  readonly mode: "local" | "external";
  /** The local issuer (local mode only): the console and the demo sign in through it. */
  readonly issuer?: LocalIssuer;
  /** The token file the pipeline simulator presents (its SERVICE_TOKEN_FILE); absent when there is none. */
  readonly simulatorTokenFile?: string;
  /** The one status line: who is signed in, or which issuer is trusted. */
  readonly line: string;
  /** What `service` is configured with: AUTH_JWKS, AUTH_ISSUER, AUTH_AUDIENCE, AUTH_POLICY and SERVICE_TOKEN_FILE. */
  serviceEnv(service: ServiceName): Record<string, string>;
  /** Stops re-minting the token files. */
  stop(): void;
}

/** Writes `path` through a temporary file and a rename, so the services never read half a policy. */
async function replaceFile(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, path);
}

/**
 * Adds to the policy file each of `grants` whose subject does not already hold that role on "*", keeping the file's
 * own entries and comments; refuses a file that is not a valid policy, naming it and the entry.
 */
export async function ensureGrants(policyFile: string, grants: readonly Grant[]): Promise<void> {
  const text = await readFile(policyFile, "utf8");
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const fail = (detail: string) => new SystemStartError(`the local access policy ${policyFile} cannot be used (${detail}): fix it, or move it away to get a new one`);
  if (doc.errors.length > 0) throw fail(doc.errors[0]!.message.split("\n")[0]!);
  let policy;
  try {
    policy = validatePolicy(doc.toJS());
  } catch (err) {
    throw fail(err instanceof PolicyError ? err.message : String(err));
  }
  const missing = grants.filter((g) => !roleIncludes(roleIn(policy, { subject: g.subject!, groups: [] }, g.project), g.role));
  if (missing.length === 0) return;
  for (const grant of missing) {
    const node = doc.createNode({ ...grant });
    node.commentBefore = " added by npm start for its own processes";
    doc.addIn(["grants"], node);
  }
  await replaceFile(policyFile, doc.toString());
}

async function localAccess(opts: AccessOptions): Promise<SystemAccess> {
  const dir = join(opts.dataDir, "auth");
  let issuer: LocalIssuer;
  try {
    issuer = await ensureLocalIssuer(dir);
  } catch (err) {
    throw new SystemStartError(`the local issuer in ${dir} cannot be used (${(err as Error).message.split("\n")[0]}): fix that, or set AUTH_JWKS to use your own`);
  }
  await ensureGrants(issuer.policyFile, LAUNCHER_GRANTS);
  const policy = validatePolicy(parseDocument(await readFile(issuer.policyFile, "utf8")).toJS());

  const ttl = opts.tokenTtlSeconds ?? LOCAL_TOKEN_TTL_SECONDS;
  const files = {
    simulator: join(dir, "pipeline-simulator.token"),
    receipts: join(dir, "receipts.token"),
    staleness: join(dir, "staleness.token"),
    regeneration: join(dir, "regeneration.token"),
  } as const;
  const mintAll = async () => {
    for (const [who, path] of Object.entries(files) as [keyof typeof files, string][]) {
      await issuer.writeTokenFile(path, { subject: LAUNCHER_SUBJECTS[who], ttlSeconds: ttl });
    }
  };
  await mintAll();
  // Re-minted at half their life: the services re-read a changed token file within a second.
  let renewAt = Date.now() + (ttl * 1000) / 2;
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing || Date.now() < renewAt) return;
    renewing = true;
    mintAll()
      .then(() => (renewAt = Date.now() + (ttl * 1000) / 2))
      .catch(() => undefined) // tried again at the next check; the files in place stay valid meanwhile
      .finally(() => (renewing = false));
  }, opts.renewCheckMs ?? 60_000);
  timer.unref();

  const admin = roleIn(policy, { subject: issuer.subject, groups: [] }, ANY_PROJECT) === "admin";
  const who = admin ? "admin on every project" : `not admin on every project: see ${issuer.policyFile}`;
  return {
    mode: "local",
    issuer,
    simulatorTokenFile: files.simulator,
    line: `access       local issuer: signed in as ${issuer.subject} (${who}); npx provenance auth token prints a token`,
    serviceEnv: (service) => ({ ...issuer.env(), SERVICE_TOKEN_FILE: files[service] }),
    stop: () => clearInterval(timer),
  };
}

function externalAccess(opts: AccessOptions): SystemAccess {
  // Checked here, so a bad value is one line before anything starts (each service would refuse it anyway).
  const config = loadAuthConfig(opts.env);
  const passed: Record<string, string> = {};
  for (const name of PASSED_AUTH_VARIABLES) {
    const value = opts.env[name]?.trim();
    if (value) passed[name] = value;
  }
  const keys = config.jwks.kind === "url" ? config.jwks.url.toString() : config.jwks.path;
  return {
    mode: "external",
    simulatorTokenFile: config.serviceTokenFile,
    line: `access       tokens of ${config.issuer} (keys ${keys}, audience ${config.audience}), grants in ${config.policyFile}; no local issuer`,
    serviceEnv: () => ({ ...passed }),
    stop: () => undefined,
  };
}

/**
 * Sets up access for the system: the local issuer when `AUTH_JWKS` is unset or empty, else the operator's
 * settings (a bad one is the shared `ConfigError` naming the variable).
 */
export async function setUpAccess(opts: AccessOptions): Promise<SystemAccess> {
  if ((opts.env.AUTH_JWKS?.trim() ?? "") === "") return localAccess(opts);
  return externalAccess(opts);
}

