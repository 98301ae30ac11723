/** Everything a service wires for identity and access, built from its {@link AuthConfig} in one call. */
import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { AuthConfig } from "./auth-config.js";
import { createAccessControl, type AccessControl, type ProjectResolvers } from "./access-decision.js";
import type { AccessTable } from "./access-table.js";
import { createAuthInterceptor } from "./auth-interceptor.js";
import { loadPolicyFile } from "./policy-file.js";
import { createOutboundAuthInterceptor, readServiceTokenFile, type TokenSource } from "./service-token.js";
import { createTokenVerifier } from "./token-verifier.js";

/** What {@link createServiceAuth} needs besides the configuration. */
export interface ServiceAuthOptions {
  /** The service's item resolvers (receipts: receipt, segment; staleness: asset; regeneration: batch). */
  resolvers?: ProjectResolvers;
  logger?: Logger;
  /** Default ACCESS_TABLE. */
  table?: AccessTable;
  /** Default the four provenance services. */
  services?: readonly DescService[];
  /** How often the policy, JWKS and token files are compared with what was read, in ms (default 1000). */
  fileCheckIntervalMs?: number;
}

/** A service's identity-and-access wiring. */
export interface ServiceAuth extends AccessControl {
  /** For `interceptors`: `[errorInterceptor(logger), auth.interceptor, validationInterceptor(rules)]`. */
  readonly interceptor: Interceptor;
  /** For the transports of the service's clients: forwards the caller's token (`actingFor`) or presents its own. */
  readonly outbound: Interceptor;
  /** The service's own token (`SERVICE_TOKEN_FILE`), when configured. */
  readonly serviceToken?: TokenSource;
}

/**
 * Reads the JWKS (a file now; a URL on first use), the policy and the service token file of `config`, and returns the
 * decision, its interceptor and the outbound interceptor. Throws a ConfigError naming the variable whose file cannot
 * be used. Later changes to the files are picked up; a broken edit is logged and the previous content stays.
 */
export async function createServiceAuth(config: AuthConfig, opts: ServiceAuthOptions = {}): Promise<ServiceAuth> {
  const log = opts.logger;
  const verifier = await createTokenVerifier({
    jwks: config.jwks,
    issuer: config.issuer,
    audience: config.audience,
    fileCheckIntervalMs: opts.fileCheckIntervalMs,
    onKeysReloadError: (err) => log?.error({ err }, "AUTH_JWKS changed but cannot be used; keeping the previous keys"),
  });
  const policy = await loadPolicyFile(config.policyFile, {
    checkIntervalMs: opts.fileCheckIntervalMs,
    onReloadError: (err) => log?.error({ err }, "AUTH_POLICY changed but is not a valid policy; keeping the previous grants"),
    onReload: () => log?.info({ file: config.policyFile }, "AUTH_POLICY reloaded"),
  });
  const serviceToken =
    config.serviceTokenFile === undefined
      ? undefined
      : await readServiceTokenFile(config.serviceTokenFile, {
          checkIntervalMs: opts.fileCheckIntervalMs,
          onReloadError: (err) => log?.error({ err }, "SERVICE_TOKEN_FILE changed but cannot be used; keeping the previous token"),
        });
  const access = createAccessControl({ verifier, policy, resolvers: opts.resolvers, table: opts.table, services: opts.services, logger: log });
  return {
    ...access,
    interceptor: createAuthInterceptor(access),
    outbound: createOutboundAuthInterceptor({ serviceToken }),
    ...(serviceToken ? { serviceToken } : {}),
  };
}
