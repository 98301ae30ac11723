/**
 * Identity for the run: a local issuer in the work dir (`ensureLocalIssuer`), a policy granting each principal of the
 * run what it needs on every project (the services' own subjects nothing, as in production), token files for the
 * services and the pipeline simulator (`SERVICE_TOKEN_FILE`), and tokens for the load generator.
 */
import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ANY_PROJECT, ensureLocalIssuer, type Role } from "@provenance/shared/auth";
import type { ServiceName } from "@provenance/shared";

/** The principals of the run and their role on every project. */
export const CHAOS_PRINCIPALS = {
  /** Registers the run's assets (RegisterAsset needs admin). */
  setup: { subject: "chaos-setup", role: "admin" },
  /** The load generator: receipts (pipeline), asset versions and regeneration submits (creator). */
  load: { subject: "chaos-load", role: "creator" },
  /** The pipeline simulator records the regenerated segments' receipts. */
  simulator: { subject: "pipeline-simulator", role: "pipeline" },
} as const satisfies Record<string, { subject: string; role: Role }>;

/** The subject of a service's own token. */
export function serviceSubject(service: ServiceName): string {
  return `service:${service}`;
}

/** What the run's processes and clients are given. */
export interface ChaosAuth {
  /** `AUTH_JWKS`, `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_POLICY` and `RECEIPT_LOG_SIGNING_KEY` for every service. */
  readonly serviceEnv: Record<string, string>;
  /** The `SERVICE_TOKEN_FILE` of a service, or of the simulator. */
  tokenFile(who: ServiceName | "pipeline-simulator"): string;
  /** Bearer tokens of the load generator's two principals. */
  readonly tokens: { readonly setup: string; readonly load: string };
}

/** Makes the issuer, the policy and the tokens under `dir`. */
export async function setUpChaosAuth(dir: string): Promise<ChaosAuth> {
  const issuer = await ensureLocalIssuer(dir, { subject: CHAOS_PRINCIPALS.setup.subject });
  const services: ServiceName[] = ["receipts", "staleness", "regeneration"];
  // The services' own subjects get no grant: every call a service makes acts for its caller and forwards the caller's
  // token, so a call that presented the service's own token instead would be refused, and show in the report.
  const grants = Object.values(CHAOS_PRINCIPALS).map(({ subject, role }) => ({ subject, project: ANY_PROJECT, role }));
  // YAML reads JSON; the issuer's own policy (its user as admin) is replaced by the run's.
  await writeFile(issuer.policyFile, `${JSON.stringify({ grants }, null, 2)}\n`);
  const tokenFile = (who: ServiceName | "pipeline-simulator") => join(dir, `${who}.token`);
  for (const s of services) await issuer.writeTokenFile(tokenFile(s), { subject: serviceSubject(s) });
  await issuer.writeTokenFile(tokenFile("pipeline-simulator"), { subject: CHAOS_PRINCIPALS.simulator.subject });
  // The receipt log's signing key, one for every receipts replica (RECEIPT_LOG_SIGNING_KEY; only receipts reads it).
  const receiptLogKey = join(dir, "receipt-log-signing-key.pem");
  await writeFile(receiptLogKey, generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  return {
    serviceEnv: { ...issuer.env(), RECEIPT_LOG_SIGNING_KEY: receiptLogKey },
    tokenFile,
    tokens: {
      setup: await issuer.mintToken({ subject: CHAOS_PRINCIPALS.setup.subject }),
      load: await issuer.mintToken({ subject: CHAOS_PRINCIPALS.load.subject }),
    },
  };
}
