/** The one mapping from errors to Connect codes (and from Connect codes to HTTP statuses for REST). */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { clientFacingError, headerSafe, truncateMessage } from "./client-errors.js";
import { DomainError, type DomainErrorCode } from "./domain-error.js";

const CONNECT_CODE: Record<DomainErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  unavailable: Code.Unavailable,
};

/** Metadata key carrying the offending field path of an INVALID_ARGUMENT error. */
export const ERROR_FIELD_HEADER = "x-error-field";

// Socket-level failures (node-postgres, NATS and fetch all surface these as `code`).
const NETWORK_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH",
  "ENOTFOUND", "EAI_AGAIN", "EPIPE", "ENOTCONN",
  // the legacy `nats` package
  "CONNECTION_REFUSED", "CONNECTION_CLOSED", "CONNECTION_DRAINING", "CONNECTION_TIMEOUT", "DISCONNECT",
]);
// PostgreSQL SQLSTATEs meaning "the server cannot serve you right now".
const PG_UNAVAILABLE_STATES = new Set(["57P01", "57P02", "57P03", "53300", "53400"]);
const NATS_UNAVAILABLE_NAMES = new Set([
  "ConnectionError", "ClosedConnectionError", "DrainingConnectionError", "NoResponders", "NoRespondersError",
  "JetStreamNotEnabled",
]);
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/i, // node-postgres when the server goes away
  /timeout exceeded when trying to connect/i, // pg-pool
  /Client has encountered a connection error/i,
];

type Dependency = "database" | "message bus" | "network";

/** Which dependency a thrown error says is unreachable, looking through `cause`, TypeORM's `driverError` and AggregateErrors. */
export function unavailableDependency(err: unknown, depth = 0): Dependency | undefined {
  if (depth > 5 || typeof err !== "object" || err === null) return undefined;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; driverError?: unknown; errors?: unknown };
  const code = typeof e.code === "string" ? e.code : undefined;
  const name = typeof e.name === "string" ? e.name : "";
  if (NATS_UNAVAILABLE_NAMES.has(name)) return "message bus";
  if (code !== undefined && code.startsWith("08") && code.length === 5) return "database";
  if (code !== undefined && PG_UNAVAILABLE_STATES.has(code)) return "database";
  if (code !== undefined && NETWORK_CODES.has(code)) return code.startsWith("CONNECTION_") || code === "DISCONNECT" ? "message bus" : "network";
  if (typeof e.message === "string" && UNAVAILABLE_MESSAGES.some((re) => re.test(e.message as string))) return "database";
  for (const inner of [e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = unavailableDependency(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function isAbort(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { name?: unknown }).name === "AbortError";
}

/**
 * Maps anything thrown to the ConnectError sent to the client: DomainErrors by code, ConnectErrors as they are
 * (except connect's own request-reading failures, see {@link clientFacingError}; messages are cut short),
 * dependency connection failures to UNAVAILABLE, aborts to CANCELED, everything else to INTERNAL "internal error"
 * (logged with its cause; no SQL or stack text reaches the client).
 */
export function toConnectError(err: unknown, logger?: Logger): ConnectError {
  if (err instanceof ConnectError) return clientFacingError(err);
  if (err instanceof DomainError) {
    const metadata = err.field === undefined ? undefined : { [ERROR_FIELD_HEADER]: headerSafe(err.field) };
    if (err.code === "unavailable" && err.cause !== undefined) logger?.warn({ err: err.cause }, err.message);
    return new ConnectError(truncateMessage(err.message), CONNECT_CODE[err.code], metadata, undefined, err);
  }
  const dependency = unavailableDependency(err);
  if (dependency) {
    logger?.warn({ err }, `${dependency} unavailable`);
    return new ConnectError(`${dependency} unavailable, retry later`, Code.Unavailable, undefined, undefined, err);
  }
  if (isAbort(err)) return new ConnectError("request canceled", Code.Canceled, undefined, undefined, err);
  logger?.error({ err }, "internal error");
  return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}

/**
 * A Connect interceptor that passes whatever a handler (or an inner interceptor) throws through
 * {@link toConnectError}, for unary calls and for errors raised while a response stream is produced.
 * Put it first in the `interceptors` array so it is the outermost layer.
 */
export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    let res;
    try {
      res = await next(req);
    } catch (err) {
      throw toConnectError(err, logger);
    }
    if (!res.stream) return res;
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* messages;
        } catch (err) {
          throw toConnectError(err, logger);
        }
      })(),
    };
  };
}

/** The HTTP status a REST route answers with for a Connect code (FAILED_PRECONDITION is 409: a conflict with current state). */
export function httpStatusFor(code: Code): number {
  switch (code) {
    case Code.Canceled:
      return 499;
    case Code.InvalidArgument:
    case Code.OutOfRange:
      return 400;
    case Code.Unauthenticated:
      return 401;
    case Code.PermissionDenied:
      return 403;
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
    case Code.FailedPrecondition:
    case Code.Aborted:
      return 409;
    case Code.ResourceExhausted:
      return 429;
    case Code.Unimplemented:
      return 501;
    case Code.Unavailable:
      return 503;
    case Code.DeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

/** The snake_case name of a Connect code as used on the wire, e.g. `not_found`. */
export function codeName(code: Code): string {
  return (Code[code] ?? "unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}
