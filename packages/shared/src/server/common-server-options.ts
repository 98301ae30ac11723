/** The createServiceServer options every service passes the same way. */
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ServiceAuth } from "../auth/service-auth.js";
import type { ServerLimits } from "../config/index.js";
import { errorInterceptor } from "../errors/index.js";
import { requestLimits, validationInterceptor, type RequestLimitOverrides, type RuleTable } from "../validation/index.js";
import type { ServiceServerOptions } from "./service-server.js";

/** What every service's createServer takes besides its own dependencies. */
export interface CommonServerDeps {
  logger: Logger;
  /**
   * Identity and access (the service runtime's `auth`): its interceptor decides every RPC, inside the error mapping
   * and before validation, so an anonymous caller learns nothing, not even which field is wrong. Every service passes
   * it (their server deps require it); only tests of the bare server bootstrap leave it out.
   */
  auth?: Pick<ServiceAuth, "interceptor">;
  /** Whether the database and events are reachable (the service runtime's readiness). */
  readiness?: () => Promise<boolean>;
  /** Where /metrics series are registered (default: the server's own registry). */
  metrics?: Registry;
  /** Browser origins allowed by CORS (ServiceConfig.corsOrigins); absent or empty: no CORS headers at all. */
  corsOrigins?: readonly string[] | "*";
  /** Smallest response compressed (ServiceConfig.compressMinBytes; default: none). */
  compressMinBytes?: number;
  /** Request size and connection time bounds (ServiceConfig.limits; default: read from the environment). */
  limits?: ServerLimits;
  /**
   * Changes to the bounds every request field is held to (DEFAULT_REQUEST_LIMITS), e.g. a larger bound for one field:
   * `{ fieldBytes: { "provenance.v1.PublishVersionRequest.note": 16384 } }`. Default: none.
   */
  requestLimits?: RequestLimitOverrides;
}

/**
 * Logger, readiness, metrics, CORS, limits, and the interceptors: errors mapped outermost, then the access decision,
 * then request limits and rule tables.
 */
export function commonServerOptions(
  deps: CommonServerDeps,
  rules: readonly RuleTable[],
): Pick<ServiceServerOptions, "logger" | "readiness" | "metricsRegistry" | "cors" | "interceptors" | "compressMinBytes" | "limits"> {
  return {
    logger: deps.logger,
    readiness: deps.readiness,
    metricsRegistry: deps.metrics,
    cors: deps.corsOrigins === "*" || (deps.corsOrigins?.length ?? 0) > 0 ? { allowedOrigins: deps.corsOrigins! } : undefined,
    interceptors: [
      errorInterceptor(deps.logger),
      ...(deps.auth ? [deps.auth.interceptor] : []),
      validationInterceptor(rules, requestLimits(deps.requestLimits)),
    ],
    compressMinBytes: deps.compressMinBytes,
    limits: deps.limits,
  };
}
