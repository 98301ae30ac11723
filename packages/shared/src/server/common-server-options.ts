/** The createServiceServer options every service passes the same way. */
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { errorInterceptor } from "../errors/index.js";
import { validationInterceptor, type RuleTable } from "../validation/index.js";
import type { ServiceServerOptions } from "./service-server.js";

/** What every service's createServer takes besides its own dependencies. */
export interface CommonServerDeps {
  logger: Logger;
  /** Whether the database and events are reachable (the service runtime's readiness). */
  readiness?: () => Promise<boolean>;
  /** Where /metrics series are registered (default: the server's own registry). */
  metrics?: Registry;
  /** Browser origins allowed by CORS (ServiceConfig.corsOrigins). */
  corsOrigins?: readonly string[] | "*";
  /** Smallest response compressed (ServiceConfig.compressMinBytes; default: none). */
  compressMinBytes?: number;
}

/** Logger, readiness, metrics, CORS, and the interceptors: errors mapped outermost, then the rule tables. */
export function commonServerOptions(
  deps: CommonServerDeps,
  rules: readonly RuleTable[],
): Pick<ServiceServerOptions, "logger" | "readiness" | "metricsRegistry" | "cors" | "interceptors" | "compressMinBytes"> {
  return {
    logger: deps.logger,
    readiness: deps.readiness,
    metricsRegistry: deps.metrics,
    cors: deps.corsOrigins ? { allowedOrigins: deps.corsOrigins } : undefined,
    interceptors: [errorInterceptor(deps.logger), validationInterceptor(rules)],
    compressMinBytes: deps.compressMinBytes,
  };
}
