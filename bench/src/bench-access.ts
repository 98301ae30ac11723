/**
 * Identity and access for a benchmark run: a local issuer in a temporary folder, whose keys and grants the services
 * check, a token file the services present on their own calls, and the token the benchmark's clients carry — so the
 * numbers include checking every call, as in production.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Interceptor } from "@connectrpc/connect";
import { createOutboundAuthInterceptor, ensureLocalIssuer, staticTokenSource } from "@provenance/shared/auth";

/** The subject of the benchmark's clients (admin on every project: it registers, publishes and records). */
export const BENCH_CLIENT = "bench:client";
/** The subject of the services' own calls (viewer on every project). */
export const BENCH_SERVICES = "bench:services";
/** The group of the watching subjects (`bench:watcher-<n>`, viewers of every project), as creators with a console open. */
export const BENCH_WATCHERS = "bench-watchers";

/** What the services and the clients of one run are given. */
export interface BenchAccess {
  /** AUTH_JWKS, AUTH_ISSUER, AUTH_AUDIENCE, AUTH_POLICY, SERVICE_TOKEN_FILE and RECEIPT_LOG_SIGNING_KEY for every service process. */
  readonly serviceEnv: Readonly<Record<string, string>>;
  /** For the clients' transports: every call carries the benchmark client's token. */
  readonly interceptors: Interceptor[];
  /** Interceptors presenting the token of watcher `n` (subject `bench:watcher-<n>`, group {@link BENCH_WATCHERS}). */
  watcherInterceptors(n: number): Promise<Interceptor[]>;
  /** Removes the issuer's folder. */
  close(): Promise<void>;
}

/** Makes the issuer, the grants and the tokens of one run (tokens valid for `hours`, default 24). */
export async function createBenchAccess(hours = 24): Promise<BenchAccess> {
  const dir = await mkdtemp(join(tmpdir(), "bench-auth-"));
  try {
    const issuer = await ensureLocalIssuer(join(dir, "auth"), { subject: BENCH_CLIENT });
    const grants = [
      { subject: BENCH_CLIENT, project: "*", role: "admin" },
      { subject: BENCH_SERVICES, project: "*", role: "viewer" },
      { group: BENCH_WATCHERS, project: "*", role: "viewer" },
    ];
    await writeFile(issuer.policyFile, `${JSON.stringify({ grants }, null, 2)}\n`);
    const ttlSeconds = hours * 3600;
    const serviceTokenFile = join(dir, "services.token");
    await issuer.writeTokenFile(serviceTokenFile, { subject: BENCH_SERVICES, ttlSeconds });
    const token = await issuer.mintToken({ subject: BENCH_CLIENT, ttlSeconds });
    // The receipt log's signing key (RECEIPT_LOG_SIGNING_KEY; only receipts reads it).
    const receiptLogKey = join(dir, "receipt-log-signing-key.pem");
    await writeFile(receiptLogKey, generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    return {
      serviceEnv: { ...issuer.env(), SERVICE_TOKEN_FILE: serviceTokenFile, RECEIPT_LOG_SIGNING_KEY: receiptLogKey },
      interceptors: [createOutboundAuthInterceptor({ serviceToken: staticTokenSource(token) })],
      watcherInterceptors: async (n) => {
        const watcherToken = await issuer.mintToken({ subject: `bench:watcher-${n}`, groups: [BENCH_WATCHERS], ttlSeconds });
        return [createOutboundAuthInterceptor({ serviceToken: staticTokenSource(watcherToken) })];
      },
      close: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
